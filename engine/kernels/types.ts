import type { Tensor } from '../tensor';
import type { Activation } from './ops';
import type { HalfStorage } from '../half';
import type { MaskRule } from '../nn/mask';

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
  /**
   * `linear` for a weight kept in its stored 16-bit dtype (bits [N, K]); a kernel without it gets the
   * widened fp32 values through `linear`.
   */
  linearHalf?(out: Float32Array, x: Float32Array, weight: HalfStorage, M: number, N: number, K: number, bias?: Float32Array): void;
  /** out[M, N] = a[M, K] · b[K, N]. */
  matmul(out: Float32Array, a: Float32Array, b: Float32Array, M: number, N: number, K: number): void;
  /**
   * The values of `weight` changed in place (a quantized copy written back, an ablated slice, a streamed
   * layer's buffer refilled): drop any packed copy of it, so the next `linear` packs the new values.
   */
  forget?(weight: Float32Array, tensor?: Tensor): void;
  /**
   * `linear` for an F32 parameter tensor whose values the kernel may hold once (as its packed panels:
   * the tensor drops its own copy and reads them back on demand, see Tensor.releaseValuesTo).
   */
  linearHeld?(out: Float32Array, x: Float32Array, weight: Tensor, M: number, N: number, K: number, bias?: Float32Array): void;
}

/** The row-wise and element-wise hot ops: softmax, norms, activations. Same layouts as ops.ts. */
export interface RowKernels {
  readonly name: string;
  /** Softmax over each row of x[rows, n], in place. */
  softmaxRows(x: Float32Array, rows: number, n: number): void;
  /** LayerNorm over rows of x[rows, n] into out (biased variance, as PyTorch). */
  layerNormRows(out: Float32Array, x: Float32Array, rows: number, n: number, eps: number, gain: Float32Array | undefined, bias: Float32Array | undefined): void;
  /** RMSNorm over rows: x / √(mean(x²) + eps) · (gainOffset + gain). */
  rmsNormRows(out: Float32Array, x: Float32Array, rows: number, n: number, eps: number, gain: Float32Array | undefined, gainOffset: number): void;
  /** out = act(x) element-wise (out may equal x). */
  activateInto(out: Float32Array, x: Float32Array, kind: Activation): void;
  /**
   * Rotary embedding (engine/nn/rope.ts's loop, the same bits): out = x [rows = B·T, H, D] with, per head,
   * dims step·i and step·i + partner (i < half) rotated by position t = row mod T (cos/sin [T, half]),
   * sign −1 rotating by −θ. Optional: without it the TypeScript loop runs.
   */
  /**
   * Embedding rows of a 16-bit table [V, D]: out[r, :] = widen(table[ids[r], :]) · scale (the ids checked
   * against V by the caller), the same bits as widenHalf. Optional: without it the TypeScript loop runs.
   */
  gatherHalf?(out: Float32Array, table: HalfStorage, ids: Int32Array, D: number, scale: number): void;
  rope?(out: Float32Array, x: Float32Array, cos: Float32Array, sin: Float32Array, dims: { rows: number; T: number; H: number; D: number; half: number }, step: number, partner: number, sign: number): void;
}

/**
 * Scaled dot-product attention over every (batch, head), split by heads: scores = q·kᵀ·scale, masked
 * (mask 0 → fill), probs = softmax(scores), out = probs·v; query head h reads KV head h / (H / H_kv).
 *   q [B·H, Tq, dk], k [B·H_kv, Tk, dk], v [B·H_kv, Tk, dv] → scores, probs [B·H, Tq, Tk], out [B·H, Tq, dv]
 *   mask [B, Tq, Tk], 1 = attend (undefined: everything).
 */
export interface AttentionKernel {
  attention(
    out: Float32Array, scores: Float32Array, probs: Float32Array,
    q: Float32Array, k: Float32Array, v: Float32Array, mask: Uint8Array | undefined,
    dims: { B: number; H: number; Hkv: number; Tq: number; Tk: number; dk: number; dv: number },
    scale: number, fill: number,
  ): void;
  /**
   * FlashAttention-style (tiled, no Tq × Tk matrix) out [B·H, Tq, dv] from the same q, k, v layouts, the
   * mask given as rules (queries at absolute positions Tk − Tq …, masked scores = fill). Returns the
   * scratch bytes used, or undefined (nothing written) for rules the kernel cannot take.
   */
  flash?(
    out: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, rules: readonly MaskRule[],
    dims: { B: number; H: number; Hkv: number; Tq: number; Tk: number; dk: number; dv: number },
    scale: number, fill: number,
  ): number | undefined;
}
