// AssemblyScript. out[M, N] = A · Bᵀ (+ bias) where B is a weight kept in its stored 16-bit dtype, rows
// [N, K] as in the checkpoint (BF16 or F16 bits). Each thread widens one 8-column panel slice of KC
// rows at a time into its own scratch (KC × 8 floats, at scratch + slot · KC · 32) and runs the same
// 6×8 register tile as the fp32 path over it, so the weights stay 2 bytes each and nothing else is kept.

import { KC, MR, NR, tile } from './gemm';

/** An IEEE half's bits as f32 (subnormals, infinities and NaN included). */
@inline function f16(h: u32): f32 {
  const s = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e == 0) {
    const v = <f32>m * <f32>5.9604644775390625e-8; // m · 2^-24
    return s ? -v : v;
  }
  if (e == 31) return reinterpret<f32>(s | 0x7f800000 | (m << 13));
  return reinterpret<f32>(s | ((e + 112) << 23) | (m << 13));
}

@inline function widen(h: u32, bf16: bool): f32 {
  return bf16 ? reinterpret<f32>(h << 16) : f16(h);
}

/** Widen rows j0 … j0+7 (those < N), columns k0 … k0+kc−1, of a 16-bit [N, K] matrix into a [kc][8] slice. */
function widenSlice(dst: usize, src: usize, N: i32, K: i32, j0: i32, k0: i32, kc: i32, bf16: bool): void {
  const row = <usize>K << 1;
  for (let l = 0; l < NR; l++) {
    const j = j0 + l;
    if (j < N) {
      const s = src + <usize>j * row + (<usize>k0 << 1);
      for (let k = 0; k < kc; k++) store<f32>(dst + ((<usize>k << 5) + (<usize>l << 2)), widen(<u32>load<u16>(s + (<usize>k << 1)), bf16));
    } else {
      for (let k = 0; k < kc; k++) store<f32>(dst + ((<usize>k << 5) + (<usize>l << 2)), 0);
    }
  }
}

/** The fp32 gemm over column panels p0 ≤ p < p1 with B widened from 16 bits one slice at a time. */
export function gemm_half(out: usize, aTiles: usize, b16: usize, bf16: i32, bias: usize, scratch: usize, M: i32, N: i32, K: i32, p0: i32, p1: i32, slot: i32): void {
  const tiles = (M + MR - 1) / MR;
  const ldc = <usize>N << 2;
  const mine = scratch + <usize>slot * (<usize>KC << 5);
  for (let p = p0; p < p1; p++) {
    const cols = min(NR, N - p * NR);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      widenSlice(mine, b16, N, K, p * NR, k0, kc, bf16 != 0);
      const pb = k0 + kc == K && bias ? bias + (<usize>p << 5) : 0;
      for (let t = 0; t < tiles; t++) {
        const ap = aTiles + (<usize>t * <usize>K + k0) * 24;
        tile(out + <usize>t * MR * ldc + (<usize>p << 5), ldc, ap, mine, kc, min(MR, M - t * MR), cols, k0 > 0, pb);
      }
    }
  }
}
