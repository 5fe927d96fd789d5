// AssemblyScript. One softmax row: dst[j] = e^(src[j] − mx) / Σ e^(src[· ] − mx), four lanes at a time
// (expf.ts), the sum in f64 as the reference sums; dst may equal src. Scores masked to a huge negative
// fill give exactly 0; a row whose every entry is the fill (mx = fill) comes out uniform, as in the reference.

import { exp4 } from './expf';
import { madd } from './madd';

/**
 * e^(x − m) with the difference's rounding error put back: d = x − m rounded, err its exact remainder
 * (Knuth's two-sum), e^(d + err) ≈ e^d + e^d·err. Without it a score 70 below the row's max lost
 * ~4e-6 of its (tiny) probability; the reference subtracts in f64.
 */
@inline function expDiff4(x: v128, m: v128): v128 {
  const nm = f32x4.neg(m);
  const d = f32x4.add(x, nm);
  const bb = f32x4.sub(d, x);
  const err = f32x4.add(f32x4.sub(x, f32x4.sub(d, bb)), f32x4.sub(nm, bb));
  const e = exp4(d);
  // Masked or infinite entries: err is NaN or meaningless there; keep e.
  const fix = madd(e, err, e);
  return v128.bitselect(fix, e, f32x4.eq(fix, fix));
}

export function softmaxRow(dst: usize, src: usize, n: i32, mx: f32): void {
  const m = f32x4.splat(mx);
  let sum: f64 = 0;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const e = expDiff4(v128.load(src + (<usize>j << 2)), m);
    v128.store(dst + (<usize>j << 2), e);
    sum += <f64>f32x4.extract_lane(e, 0) + <f64>f32x4.extract_lane(e, 1) + <f64>f32x4.extract_lane(e, 2) + <f64>f32x4.extract_lane(e, 3);
  }
  for (; j < n; j++) {
    const e = f32x4.extract_lane(expDiff4(f32x4.splat(load<f32>(src + (<usize>j << 2))), m), 0);
    store<f32>(dst + (<usize>j << 2), e);
    sum += <f64>e;
  }
  const inv = <f32>(1 / sum);
  const vi = f32x4.splat(inv);
  j = 0;
  for (; j + 4 <= n; j += 4) v128.store(dst + (<usize>j << 2), f32x4.mul(v128.load(dst + (<usize>j << 2)), vi));
  for (; j < n; j++) store<f32>(dst + (<usize>j << 2), load<f32>(dst + (<usize>j << 2)) * inv);
}
