// AssemblyScript. e^x on four f32 lanes: x = n·ln2 + r (|r| ≤ ln2/2, ln2 split in two so r is exact),
// e^r by Cephes' degree-7 polynomial (≈ 1 ulp over the range), times 2^n built in the exponent bits as
// two factors 2^(n/2) (so subnormal results round once, at the end, and 2^128 needs no special case).
// Below −104 the result is 0 (masked scores give exactly 0), above ln(FLT_MAX) +Infinity; NaN stays NaN. Replaces the f64 Math.exp per element of the activations and
// softmaxes: PyTorch's own CPU kernels compute these in f32 vectors too, and the relative error (a few
// ulp of f32, ~1e-7) is far inside the engine's 1e-5.

import { madd } from './madd';

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const X_MIN: f32 = -104;
const X_MAX: f32 = 88.72283;

@inline export function exp4(x: v128): v128 {
  // Lanes below X_MIN (masked scores: −1e9) are computed on 0 and replaced by 0 at the end: clamping them
  // to X_MIN instead would run subnormal multiplies, which x64 executes ~100× slower (microcode assists).
  const under = f32x4.lt(x, f32x4.splat(X_MIN));
  const xc = f32x4.min(v128.bitselect(f32x4.splat(0), x, under), f32x4.splat(X_MAX));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  // r = x − n·ln2, in two steps (n·LN2_HI is exact: LN2_HI has 9 significant bits).
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(<f32>1.9875691500e-4);
  p = madd(p, r, f32x4.splat(<f32>1.3981999507e-3));
  p = madd(p, r, f32x4.splat(<f32>8.3334519073e-3));
  p = madd(p, r, f32x4.splat(<f32>4.1665795894e-2));
  p = madd(p, r, f32x4.splat(<f32>1.6666665459e-1));
  p = madd(p, r, f32x4.splat(<f32>5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  // 2^n = 2^n1 · 2^n2, n ∈ [−150, 128], n1 = n >> 1, n2 = n − n1: each in [−75, 64], a normal f32.
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  p = f32x4.mul(p, i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23));
  p = f32x4.mul(p, i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23));
  // Underflow to 0, overflow to +∞ (from the unclamped x), NaN through.
  p = v128.bitselect(f32x4.splat(0), p, under);
  p = v128.bitselect(f32x4.splat(Infinity), p, f32x4.gt(x, f32x4.splat(X_MAX)));
  return v128.bitselect(x, p, f32x4.ne(x, x));
}
