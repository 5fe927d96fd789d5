// AssemblyScript. Row-wise kernels over a row range [r0, r1) (a thread's share): softmax, LayerNorm,
// RMSNorm; and element-wise activations over [i0, i1). Sums accumulate in f64 as the TypeScript
// reference (engine/kernels/ops.ts) does; transcendental functions are f64 (NativeMath), rounded to f32
// on store, so results agree with the reference to an ulp or two.

/** Softmax of each row of x[rows, n] in place (max subtracted first). */
export function softmax_rows(x: usize, n: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const p = x + (<usize>r * <usize>n << 2);
    let mx: f32 = -Infinity;
    for (let j = 0; j < n; j++) mx = max(mx, load<f32>(p + (<usize>j << 2)));
    let sum: f64 = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(<f64>load<f32>(p + (<usize>j << 2)) - <f64>mx);
      store<f32>(p + (<usize>j << 2), <f32>e);
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < n; j++) store<f32>(p + (<usize>j << 2), <f32>(<f64>load<f32>(p + (<usize>j << 2)) * inv));
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
const SQRT_2_OVER_PI: f64 = 0.7978845608028654;

/** out[i] = act(x[i]) for i0 ≤ i < i1 (out may equal x). */
export function activate(out: usize, x: usize, kind: i32, i0: i32, i1: i32): void {
  if (kind == RELU) {
    for (let i = i0; i < i1; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      store<f32>(out + (<usize>i << 2), v > 0 ? v : 0);
    }
  } else if (kind == GELU_TANH) {
    for (let i = i0; i < i1; i++) {
      const v = <f64>load<f32>(x + (<usize>i << 2));
      // 0.5·v·(1 + tanh(u)) = v / (1 + e^(−2u)): the same value, one exp instead of a tanh.
      store<f32>(out + (<usize>i << 2), <f32>(v / (1 + Math.exp(-2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))));
    }
  } else if (kind == SILU) {
    for (let i = i0; i < i1; i++) {
      const v = <f64>load<f32>(x + (<usize>i << 2));
      store<f32>(out + (<usize>i << 2), <f32>(v / (1 + Math.exp(-v))));
    }
  } else if (kind == SIGMOID) {
    for (let i = i0; i < i1; i++) {
      const v = <f64>load<f32>(x + (<usize>i << 2));
      store<f32>(out + (<usize>i << 2), <f32>(1 / (1 + Math.exp(-v))));
    }
  } else if (kind == TANH) {
    for (let i = i0; i < i1; i++) {
      store<f32>(out + (<usize>i << 2), <f32>Math.tanh(<f64>load<f32>(x + (<usize>i << 2))));
    }
  }
}
