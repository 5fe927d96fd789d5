import type { MatmulKernel, RowKernels } from './types';
import { activateInto, layerNormRows, rmsNormRows, softmaxRows } from './ops';

/**
 * Plain TypeScript matmul: dot products accumulated in float64 (JavaScript numbers), stored as fp32.
 * The matmulBT form walks two contiguous rows, four output columns at a time, so each row of `a`
 * is read once per four weight rows. No allocation inside the loops.
 */
export const referenceMatmul: MatmulKernel = {
  name: 'ts-reference',

  matmulBT(out, a, b, M, N, K, bias) {
    for (let i = 0; i < M; i++) {
      const aOff = i * K;
      const oOff = i * N;
      let j = 0;
      for (; j + 3 < N; j += 4) {
        const b0 = j * K;
        const b1 = b0 + K;
        const b2 = b1 + K;
        const b3 = b2 + K;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let k = 0; k < K; k++) {
          const av = a[aOff + k];
          s0 += av * b[b0 + k];
          s1 += av * b[b1 + k];
          s2 += av * b[b2 + k];
          s3 += av * b[b3 + k];
        }
        if (bias) {
          s0 += bias[j];
          s1 += bias[j + 1];
          s2 += bias[j + 2];
          s3 += bias[j + 3];
        }
        out[oOff + j] = s0;
        out[oOff + j + 1] = s1;
        out[oOff + j + 2] = s2;
        out[oOff + j + 3] = s3;
      }
      for (; j < N; j++) {
        const bOff = j * K;
        let s = 0;
        for (let k = 0; k < K; k++) s += a[aOff + k] * b[bOff + k];
        out[oOff + j] = bias ? s + bias[j] : s;
      }
    }
  },

  linear(out, x, weight, M, N, K, bias) {
    referenceMatmul.matmulBT(out, x, weight, M, N, K, bias);
  },

  matmul(out, a, b, M, N, K) {
    // i-k-j order (contiguous rows of b); each output row accumulates in a float64 scratch row
    // allocated once per call, so precision matches the dot-product form.
    const acc = new Float64Array(N);
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      const aOff = i * K;
      for (let k = 0; k < K; k++) {
        const av = a[aOff + k];
        if (av === 0) continue;
        const bOff = k * N;
        for (let j = 0; j < N; j++) acc[j] += av * b[bOff + j];
      }
      const oOff = i * N;
      for (let j = 0; j < N; j++) out[oOff + j] = acc[j];
    }
  },
};

/** The TypeScript row kernels of ops.ts: the reference the WebAssembly ones are tested against. */
export const referenceRows: RowKernels = {
  name: 'ts-reference',
  softmaxRows,
  layerNormRows,
  rmsNormRows,
  activateInto,
};
