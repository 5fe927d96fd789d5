import { InspectorError } from '../errors';

/** Dense float64 symmetric-matrix helpers for GPTQ (n ≤ a few thousand; row-major n × n). */

/** Lower Cholesky factor L of a symmetric positive-definite A (A = L·Lᵀ), in place of a copy. */
export function cholesky(a: Float64Array, n: number, what = 'matrix'): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) throw new InspectorError(`${what} is not positive definite (pivot ${j}); raise the dampening or give more calibration tokens`);
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** A⁻¹ from A's lower Cholesky factor (torch.cholesky_inverse). */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ·L⁻¹.
  const li = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    li[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * n + k] * li[k * n + j];
      li[i * n + j] = s / l[i * n + i];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i] * li[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/** The upper Cholesky factor U of A (A = Uᵀ·U), as torch.linalg.cholesky(A, upper=True). */
export function choleskyUpper(a: Float64Array, n: number, what?: string): Float64Array {
  const l = cholesky(a, n, what);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) u[j * n + i] = l[i * n + j];
  return u;
}
