import { inVariant, tensorCategory, walk } from './tree';
import type { ArchDesc, Category } from './types';

/**
 * Forward-pass FLOPs of one token (a multiply-add is 2 FLOPs), with `context` tokens in view:
 *
 *   matmuls:   2 × every weight matrix the token passes through: attention projections, the FFN or only
 *              the routed experts it is sent to (top-k) plus shared experts and the router, the LM head
 *              (tied or not). Embedding lookups cost nothing.
 *   attention: 2 × heads × qk_head_dim × n for the scores QKᵀ and 2 × heads × v_head_dim × n for the
 *              weighted sum, per layer, with n = min(context, window) keys (the source length for
 *              cross-attention). MLA is counted in its plain form (per-head K of qk_head_dim).
 *
 * Norms, activations, softmax and residual additions are left out (well under 1%). Heads applied once
 * per sequence (BERT's pooler, classifiers) are reported apart. In an encoder-decoder, the total is one
 * source token through the encoder plus one target token through the decoder; the cross-attention key
 * and value projections belong to the source token.
 */

export interface FlopsPart {
  readonly name: string;
  readonly flops: bigint;
}

export interface Flops {
  readonly context: bigint;
  readonly perToken: bigint;
  readonly matmul: bigint;
  readonly attention: bigint;
  readonly breakdown: readonly FlopsPart[];
  /** Encoder-decoder: the split of perToken. */
  readonly encoderPerToken?: bigint;
  readonly decoderPerToken?: bigint;
  /** Once per sequence, not in perToken: pooler, sequence classifiers. */
  readonly perSequence: bigint;
  readonly formula: string;
}

const NAMES: Record<Category, string> = {
  embeddings: 'embeddings',
  attention: 'attention projections',
  mlp: 'MLP',
  experts: 'routed experts (active only)',
  shared_experts: 'shared experts',
  router: 'router',
  norms: 'norms',
  head: 'LM head and other heads',
  other: 'other matmuls',
};

export function forwardFlops(arch: ArchDesc, context: bigint): Flops {
  const byCat = new Map<Category, bigint>();
  let matmul = 0n;
  let perSequence = 0n;
  let enc = 0n;
  let dec = 0n;
  let scores = 0n;
  let weighted = 0n;
  walk(arch.root, {
    tensor(t, ctx) {
      if (!t.matmul || !inVariant(ctx.only, 'task')) return;
      const f = 2n * t.matmul.in * t.matmul.out * ctx.execMult;
      if (ctx.stream === 'sequence') {
        perSequence += f;
        return;
      }
      matmul += f;
      const cat = tensorCategory(t, ctx);
      byCat.set(cat, (byCat.get(cat) ?? 0n) + f);
      if (ctx.stream === 'encoder') enc += f;
      else dec += f;
    },
    module(m, ctx) {
      const a = m.attention;
      if (!a || !inVariant(ctx.only, 'task')) return;
      const n = a.cross ? context : a.window !== null && a.window < context ? a.window : context;
      const s = 2n * BigInt(a.heads) * BigInt(a.qkHeadDim) * n * ctx.execMult;
      const w = 2n * BigInt(a.heads) * BigInt(a.vHeadDim) * n * ctx.execMult;
      scores += s;
      weighted += w;
      if (ctx.stream === 'encoder') enc += s + w;
      else dec += s + w;
    },
  });
  const breakdown: FlopsPart[] = [];
  for (const [cat, f] of byCat) breakdown.push({ name: NAMES[cat], flops: f });
  breakdown.push({ name: 'attention scores (QKᵀ)', flops: scores });
  breakdown.push({ name: 'attention weighted sum (AV)', flops: weighted });
  const attention = scores + weighted;
  return {
    context,
    perToken: matmul + attention,
    matmul,
    attention,
    breakdown,
    ...(arch.kind === 'encoder-decoder' ? { encoderPerToken: enc, decoderPerToken: dec } : {}),
    perSequence,
    formula: `2 × (weights multiplied per token) + Σ layers 2 × heads × (qk_head_dim + v_head_dim) × min(${context}, window)`,
  };
}
