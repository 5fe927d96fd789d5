import { inVariant, walk } from './tree';
import type { ArchDesc, AttentionDef } from './types';

/**
 * KV cache of autoregressive decoding: what each causal self-attention layer keeps per token.
 *
 *   multi-head / grouped-query / multi-query: K and V, kv_heads × head_dim each
 *   multi-head latent attention: the compressed latent (kv_lora_rank) plus the RoPE key (qk_rope_head_dim),
 *     one per token for all heads, as inference engines (vLLM, SGLang) cache it; the naive cache of
 *     full per-head K and V, heads × (qk_head_dim + v_head_dim), is reported beside it
 *   sliding-window layers hold at most `window` tokens
 *
 * Cross-attention keeps K and V of every source token (computed once): reported separately.
 * Encoders compute all positions at once and keep no cache.
 */

export type KvDtype = 'fp32' | 'fp16' | 'bf16' | 'fp8' | 'int8' | 'int4';
export const KV_DTYPES: readonly KvDtype[] = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4'];
export const DTYPE_BITS: Readonly<Record<KvDtype, number>> = {
  fp32: 32,
  fp16: 16,
  bf16: 16,
  fp8: 8,
  int8: 8,
  int4: 4,
};

export interface KvGroup {
  /** `grouped-query`, `multi-head`, `multi-query`, `latent`, `cross-attention`. */
  readonly kind: string;
  readonly layers: bigint;
  readonly window: bigint | null;
  /** Elements cached per token in one layer. */
  readonly elementsPerToken: bigint;
  readonly bytesPerToken: bigint;
  /** Tokens held at the requested context (min(context, window)). */
  readonly tokensHeld: bigint;
  readonly bytesForContext: bigint;
  readonly formula: string;
}

export interface KvCache {
  readonly dtype: KvDtype;
  readonly context: bigint;
  readonly batch: bigint;
  /** Self-attention cache of one token, all layers, K and V (latent + RoPE key for MLA). */
  readonly bytesPerToken: bigint;
  /** Cache of `batch` sequences of `context` tokens (sliding layers capped), cross-attention included. */
  readonly bytesForContext: bigint;
  readonly formula: string;
  readonly groups: readonly KvGroup[];
  /** MLA only: caching full per-head K and V instead. */
  readonly naive?: {
    readonly bytesPerToken: bigint;
    readonly bytesForContext: bigint;
    readonly formula: string;
  };
  /** Encoder-decoder: K and V of the source, per source token (source length = context). */
  readonly cross?: {
    readonly bytesPerSourceToken: bigint;
    readonly bytesForSource: bigint;
    readonly formula: string;
  };
  readonly note?: string;
}

const bytesOf = (elements: bigint, bits: number): bigint => (elements * BigInt(bits) + 7n) / 8n;

function kindOf(a: AttentionDef): string {
  if (a.cross) return 'cross-attention';
  if (a.mla) return 'latent';
  return a.kvHeads === a.heads ? 'multi-head' : a.kvHeads === 1 ? 'multi-query' : 'grouped-query';
}

export function kvCache(arch: ArchDesc, dtype: KvDtype, context: bigint, batch: bigint): KvCache {
  const bits = DTYPE_BITS[dtype];
  const byteText = bits % 8 === 0 ? `${bits / 8} B` : `${bits}/8 B`;
  const groups = new Map<string, { a: AttentionDef; layers: bigint }>();
  walk(arch.root, {
    module(m, ctx) {
      const a = m.attention;
      if (!a || !inVariant(ctx.only, 'task')) return;
      if (!a.causal && !a.cross) return;
      const key = JSON.stringify([
        kindOf(a),
        a.heads,
        a.kvHeads,
        a.qkHeadDim,
        a.vHeadDim,
        String(a.window),
        a.mla ?? null,
      ]);
      const g = groups.get(key);
      groups.set(key, { a, layers: (g?.layers ?? 0n) + ctx.execMult });
    },
  });
  const self: KvGroup[] = [];
  const cross: KvGroup[] = [];
  let naivePerToken = 0n;
  let naiveForContext = 0n;
  const naiveParts: string[] = [];
  for (const { a, layers } of groups.values()) {
    const kind = kindOf(a);
    const held = a.cross ? context : a.window !== null && a.window < context ? a.window : context;
    let elements: bigint;
    let formula: string;
    if (a.mla) {
      elements = BigInt(a.mla.kvLoraRank) + BigInt(a.mla.ropeDim);
      formula = `${layers} layers × (${a.mla.kvLoraRank} latent + ${a.mla.ropeDim} RoPE key) × ${byteText}`;
      const naive = BigInt(a.heads) * BigInt(a.qkHeadDim + a.vHeadDim);
      naivePerToken += bytesOf(naive * layers, bits);
      naiveForContext += bytesOf(naive * layers * held * batch, bits);
      naiveParts.push(
        `${layers} layers × ${a.heads} heads × (${a.qkHeadDim} K + ${a.vHeadDim} V) × ${byteText}`,
      );
    } else {
      elements = BigInt(a.kvHeads) * BigInt(a.qkHeadDim + a.vHeadDim);
      const dims =
        a.qkHeadDim === a.vHeadDim
          ? `2 (K, V) × ${a.kvHeads} kv heads × ${a.qkHeadDim}`
          : `${a.kvHeads} kv heads × (${a.qkHeadDim} K + ${a.vHeadDim} V)`;
      formula = `${layers} layers × ${dims} × ${byteText}`;
      if (!a.cross) {
        naivePerToken += bytesOf(elements * layers, bits);
        naiveForContext += bytesOf(elements * layers * held * batch, bits);
      }
    }
    const g: KvGroup = {
      kind,
      layers,
      window: a.window,
      elementsPerToken: elements,
      bytesPerToken: bytesOf(elements * layers, bits),
      tokensHeld: held,
      bytesForContext: bytesOf(elements * layers * held * batch, bits),
      formula: a.window !== null ? `${formula}, at most ${a.window} tokens (sliding window)` : formula,
    };
    (a.cross ? cross : self).push(g);
  }
  const sum = (gs: KvGroup[], f: (g: KvGroup) => bigint): bigint => gs.reduce((s, g) => s + f(g), 0n);
  const bytesPerToken = sum(self, (g) => g.bytesPerToken);
  const crossForSource = sum(cross, (g) => g.bytesForContext);
  const selfForContext = sum(self, (g) => g.bytesForContext);
  const hasMla = self.some((g) => g.kind === 'latent');
  return {
    dtype,
    context,
    batch,
    bytesPerToken,
    bytesForContext: selfForContext + crossForSource,
    formula: self.length
      ? self.map((g) => g.formula).join(' + ')
      : 'no causal self-attention: nothing is cached',
    groups: [...self, ...cross],
    ...(hasMla
      ? {
          naive: {
            bytesPerToken: naivePerToken,
            bytesForContext: naiveForContext,
            formula: naiveParts.join(' + '),
          },
        }
      : {}),
    ...(cross.length
      ? {
          cross: {
            bytesPerSourceToken: sum(cross, (g) => g.bytesPerToken),
            bytesForSource: crossForSource,
            formula: cross.map((g) => g.formula).join(' + '),
          },
        }
      : {}),
    ...(self.length === 0
      ? { note: 'an encoder attends to all positions at once and keeps no KV cache' }
      : {}),
  };
}
