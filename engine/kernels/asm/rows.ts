// AssemblyScript. Row-wise kernels over a row range [r0, r1) (a thread's share): softmax, LayerNorm,
// RMSNorm; and element-wise activations over [i0, i1). Sums accumulate in f64 as the TypeScript
// reference (engine/kernels/ops.ts) does; the exponentials of softmax, GELU, SiLU and sigmoid are f32
// lanes (expf.ts, a few ulp), tanh is f64 (NativeMath), so results agree with the reference to a few ulp.

import { exp4 } from './expf';
import { madd } from './madd';
import { softmaxRow } from './softmax';

/** Softmax of each row of x[rows, n] in place (max subtracted first). */
export function softmax_rows(x: usize, n: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const p = x + (<usize>r * <usize>n << 2);
    let mx: f32 = -Infinity;
    for (let j = 0; j < n; j++) mx = max(mx, load<f32>(p + (<usize>j << 2)));
    softmaxRow(p, p, n, mx);
  }
}

/** out = (x − mean) / √(var + eps) · gain + bias per row (biased variance); gain/bias 0 = absent. */
export function layernorm_rows(out: usize, x: usize, gain: usize, bias: usize, n: i32, eps: f64, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const p = x + (<usize>r * <usize>n << 2);
    const o = out + (<usize>r * <usize>n << 2);
    let mean: f64 = 0;
    for (let j = 0; j < n; j++) mean += <f64>load<f32>(p + (<usize>j << 2));
    mean /= n;
    let v: f64 = 0;
    for (let j = 0; j < n; j++) {
      const d = <f64>load<f32>(p + (<usize>j << 2)) - mean;
      v += d * d;
    }
    const inv = 1 / Math.sqrt(v / n + eps);
    for (let j = 0; j < n; j++) {
      const q = <usize>j << 2;
      let y = (<f64>load<f32>(p + q) - mean) * inv;
      if (gain) y *= <f64>load<f32>(gain + q);
      if (bias) y += <f64>load<f32>(bias + q);
      store<f32>(o + q, <f32>y);
    }
  }
}

/** out = x / √(mean(x²) + eps) · (offset + gain) per row; gain 0 = absent (a factor 1). */
export function rmsnorm_rows(out: usize, x: usize, gain: usize, n: i32, eps: f64, offset: f64, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const p = x + (<usize>r * <usize>n << 2);
    const o = out + (<usize>r * <usize>n << 2);
    let ss: f64 = 0;
    for (let j = 0; j < n; j++) {
      const v = <f64>load<f32>(p + (<usize>j << 2));
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) {
      const q = <usize>j << 2;
      const g: f64 = gain ? offset + <f64>load<f32>(gain + q) : 1;
      store<f32>(o + q, <f32>(<f64>load<f32>(p + q) * inv * g));
    }
  }
}

// Activation kinds, as engine/kernels/wasm.ts numbers them.
const RELU = 0;
const GELU_TANH = 1;
const SILU = 2;
const SIGMOID = 3;
const TANH = 4;
const SQRT_2_OVER_PI: f32 = 0.7978845608028654;

/**
 * Sigmoid of four lanes in the form that neither overflows nor cancels: with e = e^(−|z|) ≤ 1,
 * 1 / (1 + e) for z ≥ 0 and e / (1 + e) for z < 0.
 */
@inline function sigmoid4(z: v128): v128 {
  const e = exp4(f32x4.neg(f32x4.abs(z)));
  const num = v128.bitselect(f32x4.splat(1), e, f32x4.ge(z, f32x4.splat(0)));
  return f32x4.div(num, f32x4.add(f32x4.splat(1), e));
}

/** GELU (tanh form) of four lanes: 0.5·v·(1 + tanh(u)) = v · sigmoid(2u), u = √(2/π)·(v + 0.044715·v³). */
@inline function gelu4(v: v128): v128 {
  const u = f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), madd(f32x4.mul(f32x4.splat(<f32>0.044715), f32x4.mul(v, v)), v, v));
  return f32x4.mul(v, sigmoid4(f32x4.add(u, u)));
}

/** SiLU of four lanes: v · sigmoid(v). */
@inline function silu4(v: v128): v128 {
  return f32x4.mul(v, sigmoid4(v));
}

/** out[i] = act(x[i]) for i0 ≤ i < i1 (out may equal x). */
export function activate(out: usize, x: usize, kind: i32, i0: i32, i1: i32): void {
  if (kind == RELU) {
    for (let i = i0; i < i1; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      store<f32>(out + (<usize>i << 2), v > 0 ? v : 0);
    }
  } else if (kind == GELU_TANH) {
    // One exp per element, four lanes at a time.
    let i = i0;
    for (; i + 4 <= i1; i += 4) v128.store(out + (<usize>i << 2), gelu4(v128.load(x + (<usize>i << 2))));
    for (; i < i1; i++) store<f32>(out + (<usize>i << 2), f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(x + (<usize>i << 2)))), 0));
  } else if (kind == SILU) {
    let i = i0;
    for (; i + 4 <= i1; i += 4) v128.store(out + (<usize>i << 2), silu4(v128.load(x + (<usize>i << 2))));
    for (; i < i1; i++) store<f32>(out + (<usize>i << 2), f32x4.extract_lane(silu4(f32x4.splat(load<f32>(x + (<usize>i << 2)))), 0));
  } else if (kind == SIGMOID) {
    let i = i0;
    for (; i + 4 <= i1; i += 4) v128.store(out + (<usize>i << 2), sigmoid4(v128.load(x + (<usize>i << 2))));
    for (; i < i1; i++) store<f32>(out + (<usize>i << 2), f32x4.extract_lane(sigmoid4(f32x4.splat(load<f32>(x + (<usize>i << 2)))), 0));
  } else if (kind == TANH) {
    for (let i = i0; i < i1; i++) {
      store<f32>(out + (<usize>i << 2), <f32>Math.tanh(<f64>load<f32>(x + (<usize>i << 2))));
    }
  }
}
