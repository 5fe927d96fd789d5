import { roundHalfEven } from './rtn';

/**
 * LLM.int8() (Dettmers et al. 2022), the paper's Eq. (3): for X [M, K] and W [N, K],
 *   X·Wᵀ ≈ Σ_{k∈O} X[:, k]·W[:, k]ᵀ  +  diag(c_X) · (C_X · C_Wᵀ) · diag(c_W) / 127²
 * where O are the input feature dimensions in which any |x| ≥ α (default 6) — computed in float — and the
 * remaining dimensions are quantized vector-wise to int8 with absmax: one scale per row of X (token) and one
 * per output row of W (a column of the paper's W), both over the non-outlier dimensions. The products are
 * summed in integers exactly. bitsandbytes finds O at run time for every input, as here.
 * α = ∞ is plain vector-wise int8; α = 0 makes every dimension an outlier, i.e. float.
 */
export interface Int8Forward {
  /** y [M, N] (+ bias). */
  y: Float32Array;
  /** The outlier input dimensions, ascending. */
  outliers: number[];
}

const f32 = Math.fround;

export function outlierDims(x: Float32Array, M: number, K: number, alpha: number): boolean[] {
  const isOutlier = new Array<boolean>(K).fill(false);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) if (Math.abs(x[m * K + k]) >= alpha) isOutlier[k] = true;
  return isOutlier;
}

/** int8 absmax codes of each row of a [R, K] matrix over the columns not in `skip`; scales [R] = absmax/127. */
export function rowwiseInt8(a: Float32Array, R: number, K: number, skip: readonly boolean[]): { codes: Int8Array; absmax: Float32Array } {
  const codes = new Int8Array(R * K);
  const absmax = new Float32Array(R);
  for (let r = 0; r < R; r++) {
    let mx = 0;
    for (let k = 0; k < K; k++) if (!skip[k]) mx = Math.max(mx, Math.abs(a[r * K + k]));
    absmax[r] = mx;
    if (mx === 0) continue;
    const s = f32(127 / mx);
    for (let k = 0; k < K; k++) if (!skip[k]) codes[r * K + k] = roundHalfEven(f32(a[r * K + k] * s));
  }
  return { codes, absmax };
}

export function int8Matmul(x: Float32Array, M: number, K: number, w: Float32Array, N: number, alpha: number, bias?: Float32Array): Int8Forward {
  const skip = outlierDims(x, M, K, alpha);
  const outliers: number[] = [];
  skip.forEach((o, k) => o && outliers.push(k));
  const cx = rowwiseInt8(x, M, K, skip);
  const cw = rowwiseInt8(w, N, K, skip);
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    const xo = m * K;
    for (let n = 0; n < N; n++) {
      const wo = n * K;
      let acc = 0;
      for (let k = 0; k < K; k++) acc += cx.codes[xo + k] * cw.codes[wo + k];
      let v = (acc * cx.absmax[m] * cw.absmax[n]) / (127 * 127);
      for (const k of outliers) v += x[xo + k] * w[wo + k];
      y[m * N + n] = bias ? v + bias[n] : v;
    }
  }
  return { y, outliers };
}

/** The weight the int8 path effectively uses: int8-dequantized rows outside O, the float weight inside. */
export function effectiveWeight(w: Float32Array, N: number, K: number, outliers: readonly number[]): Float32Array {
  const skip = new Array<boolean>(K).fill(false);
  for (const k of outliers) skip[k] = true;
  const { codes, absmax } = rowwiseInt8(w, N, K, skip);
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) out[n * K + k] = skip[k] ? w[n * K + k] : f32((codes[n * K + k] * absmax[n]) / 127);
  }
  return out;
}
