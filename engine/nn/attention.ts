import { Tensor, swapAxes12 } from '../tensor';
import { attentionKernel, matmulKernel, rowKernels } from '../kernels';
import { Linear } from './linear';
import { MASKED_FILL, allows, materialize, type AttentionMask, type MaskRule } from './mask';
import { applyRope, type RopeSpec } from './rope';
import { hook, observe, type Trace } from '../trace/step';
import type { AttentionModule, ModuleSummary } from './block';
import type { KVCache } from './kvcache';

export const ROPE_LABEL: Record<RopeSpec['layout'], string> = {
  half: '(rotate_half layout, as real checkpoints)',
  interleaved: '(interleaved pairs)',
  tutorial_neg: '(tutorial variant: rotates by −θ; not compatible with real weights)',
};

export interface AttentionResult {
  /** softmax(QKᵀ/√d_k, masked)·V: [B, H, Tq, d_v] */
  output: Tensor;
  /** The attention probabilities (the pattern): [B, H, Tq, Tk] */
  probs: Tensor;
  /** The scaled, masked scores that entered the softmax: [B, H, Tq, Tk] */
  scores: Tensor;
}

/** Query head h reads key/value head h // (H / H_kv): grouped-query attention's mapping. */
export function kvHeadOf(h: number, heads: number, kvHeads: number): number {
  return Math.floor(h / (heads / kvHeads));
}

/**
 * Scaled dot-product attention, softmax(QKᵀ/√d_k + mask)·V, for q [B, H, Tq, d_k], k [B, H_kv, Tk, d_k],
 * v [B, H_kv, Tk, d_v] (H_kv = H for multi-head, 1 for multi-query, between for grouped-query).
 * Where the mask is 0 the score is replaced by −1e9 before the softmax (as `masked_fill(mask == 0, -1e9)`),
 * so a fully masked row is uniform, not NaN.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask?: AttentionMask,
  scale = 1 / Math.sqrt(q.shape[3]),
): AttentionResult {
  const [B, H, Tq, dk] = q.shape as [number, number, number, number];
  const [, Hkv, Tk] = k.shape as [number, number, number];
  const dv = v.shape[3];
  if (mask && (mask.batch !== B || mask.queries !== Tq || mask.keys !== Tk)) {
    throw new Error(`mask [${mask.batch}, ${mask.queries}, ${mask.keys}] does not fit attention [${B}, ${Tq}, ${Tk}]`);
  }
  const scores = new Tensor([B, H, Tq, Tk]);
  const output = new Tensor([B, H, Tq, dv]);
  const fused = attentionKernel();
  if (fused) {
    const probs = new Tensor([B, H, Tq, Tk]);
    fused.attention(output.data, scores.data, probs.data, q.data, k.data, v.data, mask?.data, { B, H, Hkv, Tq, Tk, dk, dv }, scale, MASKED_FILL);
    return { output, probs, scores };
  }
  const mm = matmulKernel();
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const bkv = b * Hkv + kvHeadOf(h, H, Hkv);
      const s = scores.data.subarray(bh * Tq * Tk, (bh + 1) * Tq * Tk);
      mm.matmulBT(s, q.data.subarray(bh * Tq * dk, (bh + 1) * Tq * dk), k.data.subarray(bkv * Tk * dk, (bkv + 1) * Tk * dk), Tq, Tk, dk);
      for (let i = 0; i < s.length; i++) s[i] *= scale;
      if (mask) {
        const m = mask.data.subarray(b * Tq * Tk, (b + 1) * Tq * Tk);
        for (let i = 0; i < s.length; i++) if (m[i] === 0) s[i] = MASKED_FILL;
      }
    }
  }
  const probs = scores.clone();
  rowKernels().softmaxRows(probs.data, B * H * Tq, Tk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const bkv = b * Hkv + kvHeadOf(h, H, Hkv);
      mm.matmul(
        output.data.subarray(bh * Tq * dv, (bh + 1) * Tq * dv),
        probs.data.subarray(bh * Tq * Tk, (bh + 1) * Tq * Tk),
        v.data.subarray(bkv * Tk * dv, (bkv + 1) * Tk * dv),
        Tq,
        dv,
        Tk,
      );
    }
  }
  return { output, probs, scores };
}

/**
 * FlashAttention-style attention (Dao et al. 2022): keys and values are visited in tiles, and each
 * query row keeps a running maximum m, a running sum l and an unnormalised output; the T×T score
 * matrix is never built. Scratch memory is O(tile² + tile·d_v), independent of T; only the output
 * grows (linearly) with T. Masks are applied as rules per tile, with the same −1e9 fill as the plain
 * path, so the two agree (fully masked rows included).
 */
export function flashAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  rules: readonly MaskRule[],
  scale = 1 / Math.sqrt(q.shape[3]),
  tile = 32,
): { output: Tensor; scratchBytes: number } {
  const [B, H, Tq, dk] = q.shape as [number, number, number, number];
  const [, Hkv, Tk] = k.shape as [number, number, number];
  const dv = v.shape[3];
  const output = new Tensor([B, H, Tq, dv]);
  const fast = attentionKernel()?.flash?.(output.data, q.data, k.data, v.data, rules, { B, H, Hkv, Tq, Tk, dk, dv }, scale, MASKED_FILL);
  if (fast !== undefined) return { output, scratchBytes: fast };
  const s = new Float64Array(tile * tile);
  const m = new Float64Array(tile);
  const l = new Float64Array(tile);
  const acc = new Float64Array(tile * dv);
  const scratchBytes = s.byteLength + m.byteLength + l.byteLength + acc.byteLength;
  const offset = Tk - Tq;
  const qd = q.data;
  const kd = k.data;
  const vd = v.data;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qBase = (b * H + h) * Tq * dk;
      const kvh = b * Hkv + kvHeadOf(h, H, Hkv);
      const kBase = kvh * Tk * dk;
      const vBase = kvh * Tk * dv;
      for (let i0 = 0; i0 < Tq; i0 += tile) {
        const bq = Math.min(tile, Tq - i0);
        m.fill(-Infinity);
        l.fill(0);
        acc.fill(0);
        for (let j0 = 0; j0 < Tk; j0 += tile) {
          const bc = Math.min(tile, Tk - j0);
          for (let i = 0; i < bq; i++) {
            const qi = qBase + (i0 + i) * dk;
            let rowMax = -Infinity;
            for (let j = 0; j < bc; j++) {
              let ok = true;
              for (const r of rules) {
                if (!allows(r, b, i0 + i + offset, j0 + j)) {
                  ok = false;
                  break;
                }
              }
              let dot = MASKED_FILL;
              if (ok) {
                const kj = kBase + (j0 + j) * dk;
                dot = 0;
                for (let d = 0; d < dk; d++) dot += qd[qi + d] * kd[kj + d];
                dot *= scale;
              }
              s[i * tile + j] = dot;
              if (dot > rowMax) rowMax = dot;
            }
            const mNew = Math.max(m[i], rowMax);
            const correction = Math.exp(m[i] - mNew);
            let rowSum = 0;
            const a = i * dv;
            for (let d = 0; d < dv; d++) acc[a + d] *= correction;
            for (let j = 0; j < bc; j++) {
              const p = Math.exp(s[i * tile + j] - mNew);
              rowSum += p;
              const vj = vBase + (j0 + j) * dv;
              for (let d = 0; d < dv; d++) acc[a + d] += p * vd[vj + d];
            }
            l[i] = l[i] * correction + rowSum;
            m[i] = mNew;
          }
        }
        for (let i = 0; i < bq; i++) {
          const o = ((b * H + h) * Tq + i0 + i) * dv;
          for (let d = 0; d < dv; d++) output.data[o + d] = acc[i * dv + d] / l[i];
        }
      }
    }
  }
  return { output, scratchBytes };
}

/** How attention is computed: `plain` records the scores and the pattern; `flash` is tiled and does not. */
export type AttentionImpl = 'plain' | 'flash';

export interface AttentionOptions {
  /** Key/value heads: = heads for multi-head, 1 for multi-query, a divisor of heads for grouped-query. */
  kvHeads: number;
  headDim: number;
  rope?: RopeSpec;
  impl: AttentionImpl;
  /** Softmax scale; 1/√d_head unless a family says otherwise. */
  scale?: number;
}

/**
 * Multi-head attention with separate Q, K, V and output projections: heads are split as (B, T, H, d_k),
 * keys/values as (B, T, H_kv, d_k), and merged back to (B, T, H·d_k) before the output projection.
 */
export class MultiHeadAttention implements AttentionModule {
  readonly headDim: number;
  readonly kvHeads: number;
  readonly opts: AttentionOptions;
  readonly cacheable = true;

  constructor(
    /** Hook prefix, e.g. `blocks.0.attn` or `decoder.blocks.1.cross_attn`. */
    readonly path: string,
    readonly numHeads: number,
    readonly q: Linear,
    readonly k: Linear,
    readonly v: Linear,
    readonly out: Linear,
    opts?: Partial<AttentionOptions>,
  ) {
    this.headDim = opts?.headDim ?? q.outFeatures / numHeads;
    this.kvHeads = opts?.kvHeads ?? numHeads;
    this.opts = { impl: 'plain', ...opts, kvHeads: this.kvHeads, headDim: this.headDim };
  }

  summary(): ModuleSummary {
    const H = this.numHeads;
    const Hkv = this.kvHeads;
    const label = Hkv === H ? 'Multi-head attention' : Hkv === 1 ? 'Multi-query attention' : 'Grouped-query attention';
    const rope = this.opts.rope;
    const parts = [`${H} heads × ${this.headDim}`];
    if (Hkv !== H) parts.push(`${Hkv} KV head${Hkv > 1 ? 's' : ''} (query head h reads KV head h // ${H / Hkv})`);
    if (rope) parts.push(`RoPE ${ROPE_LABEL[rope.layout]}, θ = ${rope.theta}${rope.rotaryDim < this.headDim ? `, ${rope.rotaryDim} of ${this.headDim} dims` : ''}`);
    if (this.opts.impl === 'flash') parts.push('FlashAttention-style tiled softmax (no pattern recorded)');
    return {
      path: this.path,
      label,
      detail: parts.join(', '),
      tensors: [this.q, this.k, this.v, this.out].flatMap((l) => l.tensors()),
      heads: { count: H, headDim: this.headDim },
    };
  }

  /**
   * xq [B, Tq, D] attends to xkv [B, Tk, D] (the same tensor for self-attention). With a cache, xq = xkv
   * are the new positions; their keys and values join the cached ones, which every query attends over.
   */
  *forward(xq: Tensor, xkv: Tensor, rules: readonly MaskRule[], cache?: KVCache): Trace {
    const [B, Tq] = xq.shape as [number, number];
    const Tnew = xkv.shape[1];
    const H = this.numHeads;
    const Hkv = this.kvHeads;
    const dk = this.headDim;
    const p = this.path;
    const past = cache?.get(p)?.k.shape[1] ?? 0; // positions already cached
    let q = yield* hook(`${p}.hook_q`, this.q.forward(xq).view(B, Tq, H, dk)); // (B, Tq, H, dk)
    let k = yield* hook(`${p}.hook_k`, this.k.forward(xkv).view(B, Tnew, Hkv, dk)); // (B, Tnew, H_kv, dk)
    let v = yield* hook(`${p}.hook_v`, this.v.forward(xkv).view(B, Tnew, Hkv, dk)); // (B, Tnew, H_kv, dk)
    if (this.opts.rope) {
      q = yield* hook(`${p}.hook_rot_q`, applyRope(q, this.opts.rope, past + Tnew - Tq));
      k = yield* hook(`${p}.hook_rot_k`, applyRope(k, this.opts.rope, past));
    }
    if (cache) ({ k, v } = cache.append(p, k, v)); // (B, past + Tnew, H_kv, ·)
    const Tk = k.shape[1];
    const scale = this.opts.scale ?? 1 / Math.sqrt(dk);
    let z: Tensor;
    if (this.opts.impl === 'flash') {
      z = swapAxes12(flashAttention(swapAxes12(q), swapAxes12(k), swapAxes12(v), rules, scale).output);
    } else {
      const mask = materialize(rules, B, Tq, Tk);
      const att = scaledDotProductAttention(swapAxes12(q), swapAxes12(k), swapAxes12(v), mask, scale); // (B, H, Tq, ·)
      yield* observe(`${p}.hook_attn_scores`, att.scores, mask);
      yield* observe(`${p}.hook_pattern`, att.probs, mask);
      z = swapAxes12(att.output);
    }
    z = yield* hook(`${p}.hook_z`, z); // (B, Tq, H, dk)
    return this.out.forward(z.view(B, Tq, H * dk)); // (B, Tq, D)
  }
}
