// AssemblyScript. out[M, N] = A · Bᵀ (+ bias) where B is a weight kept in its stored 16-bit dtype, rows
// [N, K] as in the checkpoint (BF16 or F16 bits). Each thread widens one 8-column panel slice of KC
// rows at a time into its own scratch (KC × 8 floats, at scratch + slot · KC · 32) and runs the same
// 4×8 register tile as the fp32 path over it, so the weights stay 2 bytes each and nothing else is kept.

import { KC, MR, NR, tile } from './gemm';
import { madd } from './madd';

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
        const ap = aTiles + (<usize>t * <usize>K + k0) * 16;
        tile(out + <usize>t * MR * ldc + (<usize>p << 5), ldc, ap, mine, kc, min(MR, M - t * MR), cols, k0 > 0, pb);
      }
    }
  }
}

/** Eight 16-bit values (one v128) widened: lanes 0–3 (low = true) or 4–7 as f32x4. */
@inline function widen4(h8: v128, low: bool, bf16: bool): v128 {
  const v = low ? i32x4.extend_low_i16x8_u(h8) : i32x4.extend_high_i16x8_u(h8);
  if (bf16) return i32x4.shl(v, 16);
  // F16: magnitude bits moved into place and rescaled by 2^112 (exact for normals and subnormals);
  // exponent 31 (infinity, NaN) gets the all-ones f32 exponent; then the sign.
  const mag = i32x4.shl(v128.and(v, i32x4.splat(0x7fff)), 13);
  const scaled = f32x4.mul(mag, f32x4.splat(5.192296858534828e33));
  const special = i32x4.eq(v128.and(v, i32x4.splat(0x7c00)), i32x4.splat(0x7c00));
  const f = v128.bitselect(v128.or(mag, i32x4.splat(0x7f800000)), scaled, special);
  return v128.or(f, i32x4.shl(v128.and(v, i32x4.splat(0x8000)), 16));
}

/**
 * Few rows (decoding): out[m, j] = x[m, :] · W[j, :] (+ bias[j]) for rows j0 ≤ j < j1 of a 16-bit W
 * [N, K], as dot products along K (contiguous, widened 8 at a time); no packing. x is fp32 [M, K].
 */
export function gemv_half(out: usize, x: usize, b16: usize, bf16: i32, bias: usize, M: i32, N: i32, K: i32, j0: i32, j1: i32): void {
  const isBf = bf16 != 0;
  const K8 = K & ~7;
  for (let j = j0; j < j1; j++) {
    const w = b16 + <usize>j * (<usize>K << 1);
    for (let m = 0; m < M; m++) {
      const xm = x + <usize>m * (<usize>K << 2);
      let acc0 = f32x4.splat(0);
      let acc1 = f32x4.splat(0);
      for (let k = 0; k < K8; k += 8) {
        const h8 = v128.load(w + (<usize>k << 1));
        acc0 = madd(widen4(h8, true, isBf), v128.load(xm + (<usize>k << 2)), acc0);
        acc1 = madd(widen4(h8, false, isBf), v128.load(xm + (<usize>k << 2), 16), acc1);
      }
      const s4 = f32x4.add(acc0, acc1);
      let s: f32 = f32x4.extract_lane(s4, 0) + f32x4.extract_lane(s4, 1) + f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3);
      for (let k = K8; k < K; k++) s += widen(<u32>load<u16>(w + (<usize>k << 1)), isBf) * load<f32>(xm + (<usize>k << 2));
      if (bias) s += load<f32>(bias + (<usize>j << 2));
      store<f32>(out + ((<usize>m * <usize>N + j) << 2), s);
    }
  }
}

/**
 * Embedding rows gathered from a 16-bit table [V, D] (BF16 or F16 bits) for positions r0 ≤ r < r1:
 * out[r, :] = widen(table[ids[r], :]) (· scale when scale ≠ 1, in f64 rounded once, as the TypeScript
 * path does). ids are i32, already checked against V by the caller.
 */
export function gather_half(out: usize, table: usize, ids: usize, bf16: i32, D: i32, scale: f64, r0: i32, r1: i32): void {
  const isBf = bf16 != 0;
  for (let r = r0; r < r1; r++) {
    const src = table + <usize>load<i32>(ids + (<usize>r << 2)) * (<usize>D << 1);
    const dst = out + (<usize>r * <usize>D << 2);
    if (scale == 1) {
      for (let j = 0; j < D; j++) store<f32>(dst + (<usize>j << 2), widen(<u32>load<u16>(src + (<usize>j << 1)), isBf));
    } else {
      for (let j = 0; j < D; j++) store<f32>(dst + (<usize>j << 2), <f32>(<f64>widen(<u32>load<u16>(src + (<usize>j << 1)), isBf) * scale));
    }
  }
}
