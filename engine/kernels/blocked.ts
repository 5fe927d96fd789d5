import type { MatmulKernel } from './types';
import { referenceMatmul } from './reference';

/**
 * Register-blocked matmulBT: 4 rows of `a` × 4 rows of `b` per inner loop (16 float64 accumulators),
 * so every loaded element is used four times. Same results as the reference to fp32 rounding of the
 * final store (both accumulate in float64, in the same k order).
 */
export const blockedMatmul: MatmulKernel = {
  name: 'ts-blocked-4x4',

  matmulBT(out, a, b, M, N, K, bias) {
    let i = 0;
    for (; i + 3 < M; i += 4) {
      const a0 = i * K;
      const a1 = a0 + K;
      const a2 = a1 + K;
      const a3 = a2 + K;
      let j = 0;
      for (; j + 3 < N; j += 4) {
        const b0 = j * K;
        const b1 = b0 + K;
        const b2 = b1 + K;
        const b3 = b2 + K;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
        let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let k = 0; k < K; k++) {
          const x0 = a[a0 + k];
          const x1 = a[a1 + k];
          const x2 = a[a2 + k];
          const x3 = a[a3 + k];
          const y0 = b[b0 + k];
          const y1 = b[b1 + k];
          const y2 = b[b2 + k];
          const y3 = b[b3 + k];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
          s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        const c0 = bias ? bias[j] : 0;
        const c1 = bias ? bias[j + 1] : 0;
        const c2 = bias ? bias[j + 2] : 0;
        const c3 = bias ? bias[j + 3] : 0;
        let o = i * N + j;
        out[o] = s00 + c0; out[o + 1] = s01 + c1; out[o + 2] = s02 + c2; out[o + 3] = s03 + c3;
        o += N;
        out[o] = s10 + c0; out[o + 1] = s11 + c1; out[o + 2] = s12 + c2; out[o + 3] = s13 + c3;
        o += N;
        out[o] = s20 + c0; out[o + 1] = s21 + c1; out[o + 2] = s22 + c2; out[o + 3] = s23 + c3;
        o += N;
        out[o] = s30 + c0; out[o + 1] = s31 + c1; out[o + 2] = s32 + c2; out[o + 3] = s33 + c3;
      }
      for (; j < N; j++) {
        const bOff = j * K;
        for (let r = 0; r < 4; r++) {
          const aOff = (i + r) * K;
          let s = 0;
          for (let k = 0; k < K; k++) s += a[aOff + k] * b[bOff + k];
          out[(i + r) * N + j] = bias ? s + bias[j] : s;
        }
      }
    }
    if (i < M) {
      // The last M mod 4 rows: the reference kernel on the remaining slice.
      referenceMatmul.matmulBT(out.subarray(i * N), a.subarray(i * K), b, M - i, N, K, bias);
    }
  },

  linear(out, x, weight, M, N, K, bias) {
    blockedMatmul.matmulBT(out, x, weight, M, N, K, bias);
  },

  matmul: referenceMatmul.matmul,
};
