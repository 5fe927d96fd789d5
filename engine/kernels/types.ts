/**
 * The hot kernels, behind one small interface so a faster implementation
 * (blocked, SIMD, WebAssembly, threaded) can replace the reference one without touching layers.
 * Outputs first, then inputs; layouts are row-major and stated per method.
 */
export interface MatmulKernel {
  readonly name: string;
  /** out[M, N] = a[M, K] · b[N, K]ᵀ (+ bias[N]). The nn.Linear form: b is a weight stored [out, in]. */
  matmulBT(
    out: Float32Array,
    a: Float32Array,
    b: Float32Array,
    M: number,
    N: number,
    K: number,
    bias?: Float32Array,
  ): void;
  /**
   * out[M, N] = x[M, K] · weightᵀ (+ bias): matmulBT where `weight` is a parameter that stays the same
   * between calls, so a kernel may keep a packed copy of it (built once per tensor, never per call).
   */
  linear(
    out: Float32Array,
    x: Float32Array,
    weight: Float32Array,
    M: number,
    N: number,
    K: number,
    bias?: Float32Array,
  ): void;
  /** out[M, N] = a[M, K] · b[K, N]. */
  matmul(out: Float32Array, a: Float32Array, b: Float32Array, M: number, N: number, K: number): void;
}
