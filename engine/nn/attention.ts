import { Tensor, swapAxes12 } from '../tensor';
import { matmulKernel } from '../kernels';
import { softmaxRows } from '../kernels/ops';
import { Linear } from './linear';
import { MASKED_FILL, type AttentionMask } from './mask';
import { hook, type Trace } from '../trace/step';

export interface AttentionResult {
  /** softmax(QKᵀ/√d_k, masked)·V: [B, H, Tq, d_v] */
  output: Tensor;
  /** The attention probabilities (the pattern): [B, H, Tq, Tk] */
  probs: Tensor;
  /** The scaled, masked scores that entered the softmax: [B, H, Tq, Tk] */
  scores: Tensor;
}

/**
 * Scaled dot-product attention, softmax(QKᵀ/√d_k + mask)·V, for q [B, H, Tq, d_k], k [B, H, Tk, d_k],
 * v [B, H, Tk, d_v]. Where the mask is 0 the score is replaced by −1e9 before the softmax (as
 * `masked_fill(mask == 0, -1e9)`), so a fully masked row is uniform, not NaN.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask?: AttentionMask,
  scale = 1 / Math.sqrt(q.shape[3]),
): AttentionResult {
  const [B, H, Tq, dk] = q.shape as [number, number, number, number];
  const Tk = k.shape[2];
  const dv = v.shape[3];
  if (mask && (mask.batch !== B || mask.queries !== Tq || mask.keys !== Tk)) {
    throw new Error(`mask [${mask.batch}, ${mask.queries}, ${mask.keys}] does not fit attention [${B}, ${Tq}, ${Tk}]`);
  }
  const scores = new Tensor([B, H, Tq, Tk]);
  const output = new Tensor([B, H, Tq, dv]);
  const mm = matmulKernel();
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const s = scores.data.subarray(bh * Tq * Tk, (bh + 1) * Tq * Tk);
      mm.matmulBT(s, q.data.subarray(bh * Tq * dk, (bh + 1) * Tq * dk), k.data.subarray(bh * Tk * dk, (bh + 1) * Tk * dk), Tq, Tk, dk);
      for (let i = 0; i < s.length; i++) s[i] *= scale;
      if (mask) {
        const m = mask.data.subarray(b * Tq * Tk, (b + 1) * Tq * Tk);
        for (let i = 0; i < s.length; i++) if (m[i] === 0) s[i] = MASKED_FILL;
      }
    }
  }
  const probs = scores.clone();
  softmaxRows(probs.data, B * H * Tq, Tk);
  for (let bh = 0; bh < B * H; bh++) {
    mm.matmul(
      output.data.subarray(bh * Tq * dv, (bh + 1) * Tq * dv),
      probs.data.subarray(bh * Tq * Tk, (bh + 1) * Tq * Tk),
      v.data.subarray(bh * Tk * dv, (bh + 1) * Tk * dv),
      Tq,
      dv,
      Tk,
    );
  }
  return { output, probs, scores };
}

/**
 * Multi-head attention with separate Q, K, V and output projections (with biases): heads are split
 * as (B, T, H, d_k) and merged back to (B, T, H·d_k) before the output projection.
 */
export class MultiHeadAttention {
  readonly headDim: number;

  constructor(
    /** Hook prefix, e.g. `blocks.0.attn` or `decoder.blocks.1.cross_attn`. */
    readonly path: string,
    readonly numHeads: number,
    readonly q: Linear,
    readonly k: Linear,
    readonly v: Linear,
    readonly out: Linear,
  ) {
    this.headDim = q.outFeatures / numHeads;
  }

  /** xq [B, Tq, D] attends to xkv [B, Tk, D] (the same tensor for self-attention). */
  *forward(xq: Tensor, xkv: Tensor, mask?: AttentionMask): Trace {
    const [B, Tq] = xq.shape as [number, number];
    const Tk = xkv.shape[1];
    const H = this.numHeads;
    const dk = this.headDim;
    const q = yield* hook(`${this.path}.hook_q`, this.q.forward(xq).view(B, Tq, H, dk)); // (B, Tq, H, dk)
    const k = yield* hook(`${this.path}.hook_k`, this.k.forward(xkv).view(B, Tk, H, dk)); // (B, Tk, H, dk)
    const v = yield* hook(`${this.path}.hook_v`, this.v.forward(xkv).view(B, Tk, H, dk)); // (B, Tk, H, dk)
    const att = scaledDotProductAttention(swapAxes12(q), swapAxes12(k), swapAxes12(v), mask); // (B, H, Tq, ·)
    yield* hook(`${this.path}.hook_attn_scores`, att.scores, mask);
    yield* hook(`${this.path}.hook_pattern`, att.probs, mask);
    const z = yield* hook(`${this.path}.hook_z`, swapAxes12(att.output)); // (B, Tq, H, dk)
    return this.out.forward(z.view(B, Tq, H * dk)); // (B, Tq, D)
  }
}
