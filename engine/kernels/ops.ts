/**
 * Row-wise kernels used by the layers: softmax, normalisations, activations.
 * All work in place or into a caller-given output; none allocates per element.
 */

/** Numerically stable softmax over each row of length n, in place. */
export function softmaxRows(x: Float32Array, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (x[off + j] > max) max = x[off + j];
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(x[off + j] - max);
      x[off + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < n; j++) x[off + j] *= inv;
  }
}

/** LayerNorm over rows of length n: (x − mean) / sqrt(var + eps) · g + b, biased variance as in PyTorch. */
export function layerNormRows(
  out: Float32Array,
  x: Float32Array,
  rows: number,
  n: number,
  eps: number,
  gain: Float32Array | undefined,
  bias: Float32Array | undefined,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let mean = 0;
    for (let j = 0; j < n; j++) mean += x[off + j];
    mean /= n;
    let v = 0;
    for (let j = 0; j < n; j++) {
      const d = x[off + j] - mean;
      v += d * d;
    }
    const inv = 1 / Math.sqrt(v / n + eps);
    for (let j = 0; j < n; j++) {
      let y = (x[off + j] - mean) * inv;
      if (gain) y *= gain[j];
      if (bias) y += bias[j];
      out[off + j] = y;
    }
  }
}

/** RMSNorm over rows: x / sqrt(mean(x²) + eps) · (offset + g). Gemma uses offset 1. */
export function rmsNormRows(
  out: Float32Array,
  x: Float32Array,
  rows: number,
  n: number,
  eps: number,
  gain: Float32Array | undefined,
  gainOffset: number,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let ss = 0;
    for (let j = 0; j < n; j++) ss += x[off + j] * x[off + j];
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) {
      const g = gain ? gainOffset + gain[j] : 1;
      out[off + j] = x[off + j] * inv * g;
    }
  }
}

export type Activation = 'relu' | 'gelu' | 'gelu_tanh' | 'silu' | 'sigmoid' | 'tanh' | 'identity';

export const ACTIVATIONS = ['relu', 'gelu', 'gelu_tanh', 'silu', 'sigmoid', 'tanh', 'identity'] as const;

/** Error function to ~1e-15: a Maclaurin series near 0, a continued fraction for erfc beyond (A–S 7.1.26 is too coarse for 1e-5 checks). */
export function erf(x: number): number {
  // Use the relation to erfc for |x| large; a high-accuracy series / continued fraction otherwise.
  const ax = Math.abs(x);
  if (ax < 3) {
    // Maclaurin series; at |x| < 3 its largest term is ~1e4, so ~12 digits survive cancellation.
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 120; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  return x > 0 ? 1 - erfc(ax) : erfc(ax) - 1;
}

/** Complementary error function for x ≥ 3 by a Lentz continued fraction (accurate to ~1e-15). */
function erfc(x: number): number {
  if (x > 27) return 0;
  // erfc(x) = exp(-x²)/sqrt(π) · 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = x;
  let C = x;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    D = x + an * D;
    D = D === 0 ? tiny : D;
    C = x + an / C;
    C = C === 0 ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Every activation as a function, chosen once by kind (a lookup, never a switch per element). */
export const ACTIVATION_FNS = {
  relu: (v: number) => (v > 0 ? v : 0),
  gelu: (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  gelu_tanh: (v: number) => 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))),
  silu: (v: number) => v / (1 + Math.exp(-v)),
  sigmoid: (v: number) => 1 / (1 + Math.exp(-v)),
  tanh: (v: number) => Math.tanh(v),
  identity: (v: number) => v,
} as const satisfies Record<Activation, (v: number) => number>;

export function activate(kind: Activation, v: number): number {
  return ACTIVATION_FNS[kind](v);
}

/** An element-wise applier for one activation, chosen once (out may equal x). */
export function activationKernel(kind: Activation): (out: Float32Array, x: Float32Array) => void {
  if (kind === 'identity') return (out, x) => void (out !== x && out.set(x));
  if (kind === 'relu')
    return (out, x) => {
      for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
    };
  const f = ACTIVATION_FNS[kind];
  return (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  };
}

const KERNELS = Object.fromEntries((Object.keys(ACTIVATION_FNS) as Activation[]).map((k) => [k, activationKernel(k)])) as Record<Activation, (out: Float32Array, x: Float32Array) => void>;

/** Apply an activation element-wise into out (out may equal x). */
export function activateInto(out: Float32Array, x: Float32Array, kind: Activation): void {
  KERNELS[kind](out, x);
}
