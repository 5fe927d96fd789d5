import { findParams, quantizeValue, checkGrid, type GridOptions, type QuantizedWeight } from './rtn';
import { choleskyInverse, cholesky, choleskyUpper } from './linalg';

/**
 * GPTQ (Frantar et al. 2022), following the authors' reference `gptq.py` (IST-DASLab/gptq, `fasterquant`,
 * as AutoGPTQ keeps it): H = 2/B·Σ xxᵀ over the calibration tokens the layer receives; dead inputs
 * (H_kk = 0) get H_kk = 1 and W[:, k] = 0; optional act-order (columns by descending H_kk); dampening
 * λ = percdamp·mean(diag H); U = chol(H⁻¹) upper; then, in lazy blocks of `blockSize` columns, quantize
 * column i, spread its error (w − q)/U_ii over the remaining columns of the block with row i of U, and
 * apply the block's accumulated error to every later column at once. Groups take their scale and zero
 * from the (partly updated) weight when their first column is reached, as the reference does.
 */
export interface GptqOptions extends GridOptions {
  /** Dampening as a fraction of the mean diagonal (0.01). */
  percdamp?: number;
  blockSize?: number;
  actOrder?: boolean;
}

/** H [K, K] = 2/B·XᵀX from X [M, K] (B = number of calibration sequences, as the reference counts). */
export function hessian(x: Float32Array, M: number, K: number, sequences: number): Float64Array {
  const h = new Float64Array(K * K);
  const c = 2 / sequences;
  const row = new Float64Array(K);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) row[k] = x[m * K + k];
    for (let i = 0; i < K; i++) {
      const xi = row[i] * c;
      if (xi === 0) continue;
      const hi = i * K;
      for (let j = 0; j <= i; j++) h[hi + j] += xi * row[j];
    }
  }
  for (let i = 0; i < K; i++) for (let j = 0; j < i; j++) h[j * K + i] = h[i * K + j];
  return h;
}

export function gptqQuantize(w: Float32Array, N: number, K: number, hIn: Float64Array, opts: GptqOptions, tensor?: string): QuantizedWeight {
  const g = checkGrid(opts, K, tensor);
  const grouped = g !== K;
  const maxq = 2 ** opts.bits - 1;
  const blockSize = opts.blockSize ?? 128;
  const W = Float64Array.from(w); // [N, K], updated in place
  const H = Float64Array.from(hIn);
  // Without groups the grid comes from the whole original row (before dead columns are zeroed).
  const rowParams = grouped ? [] : Array.from({ length: N }, (_, n) => findParams(w.subarray(n * K, (n + 1) * K), 0, K, maxq, opts.sym));
  for (let k = 0; k < K; k++) {
    if (H[k * K + k] === 0) {
      H[k * K + k] = 1;
      for (let n = 0; n < N; n++) W[n * K + k] = 0;
    }
  }
  let perm: number[] | undefined;
  let Wp = W;
  let Hp = H;
  if (opts.actOrder) {
    perm = Array.from({ length: K }, (_, k) => k).sort((a, b) => H[b * K + b] - H[a * K + a] || a - b);
    Wp = new Float64Array(N * K);
    Hp = new Float64Array(K * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) Wp[n * K + k] = W[n * K + perm[k]];
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) Hp[i * K + j] = H[perm[i] * K + perm[j]];
  }
  let mean = 0;
  for (let k = 0; k < K; k++) mean += Hp[k * K + k];
  const damp = (opts.percdamp ?? 0.01) * (mean / K);
  for (let k = 0; k < K; k++) Hp[k * K + k] += damp;
  const U = choleskyUpper(choleskyInverse(cholesky(Hp, K, `the Hessian of ${tensor ?? 'a layer'}`), K), K, `the inverse Hessian of ${tensor ?? 'a layer'}`);

  const qp = new Int32Array(N * K); // codes in the processing (permuted) order
  const G = K / g;
  const scales = new Float32Array(N * G);
  const zeros = new Int32Array(N * G);
  const scale = new Float64Array(N);
  const zero = new Int32Array(N);
  if (!grouped) rowParams.forEach((p, n) => ((scale[n] = p.scale), (zero[n] = p.zero), (scales[n] = p.scale), (zeros[n] = p.zero)));
  const err = new Float64Array(N * blockSize); // Err1 [N, count]
  const block = new Float64Array(N * blockSize); // W1 [N, count]
  for (let i1 = 0; i1 < K; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, K);
    const count = i2 - i1;
    for (let n = 0; n < N; n++) for (let i = 0; i < count; i++) block[n * blockSize + i] = Wp[n * K + i1 + i];
    for (let i = 0; i < count; i++) {
      const col = i1 + i;
      if (grouped && col % g === 0) {
        // The reference reads the outer W here: updated by earlier blocks, not by this block's columns.
        const j = col / g;
        for (let n = 0; n < N; n++) {
          const p = findParams(Wp.subarray(n * K, (n + 1) * K), col, col + g, maxq, opts.sym);
          scale[n] = p.scale;
          zero[n] = p.zero;
          scales[n * G + j] = p.scale;
          zeros[n * G + j] = p.zero;
        }
      }
      const d = U[col * K + col];
      for (let n = 0; n < N; n++) {
        const wv = block[n * blockSize + i];
        const code = quantizeValue(wv, scale[n], zero[n], maxq);
        qp[n * K + col] = code;
        const qv = Math.fround(scale[n] * (code - zero[n]));
        const e = (wv - qv) / d;
        err[n * blockSize + i] = e;
        const bn = n * blockSize;
        const ui = col * K + i1;
        for (let t = i; t < count; t++) block[bn + t] -= e * U[ui + t];
      }
    }
    for (let n = 0; n < N; n++) for (let i = 0; i < count; i++) Wp[n * K + i1 + i] = block[n * blockSize + i];
    // W[:, i2:] -= Err1 · U[i1:i2, i2:]
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < count; i++) {
        const e = err[n * blockSize + i];
        if (e === 0) continue;
        const ui = (i1 + i) * K;
        for (let c = i2; c < K; c++) Wp[n * K + c] -= e * U[ui + c];
      }
    }
  }
  const q = new Int32Array(N * K);
  const gIdx = new Int32Array(K);
  for (let k = 0; k < K; k++) {
    const from = perm ? perm[k] : k; // processing position k holds original column perm[k]
    gIdx[from] = Math.floor(k / g);
    for (let n = 0; n < N; n++) q[n * K + from] = qp[n * K + k];
  }
  if (!grouped) gIdx.fill(0);
  return { rows: N, columns: K, bits: opts.bits, groupSize: g, q, scales, zeros, gIdx, groups: G };
}
