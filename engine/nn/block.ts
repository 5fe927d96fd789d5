import { Tensor } from '../tensor';
import { add } from './linear';
import type { Norm } from './norm';
import type { MultiHeadAttention } from './attention';
import type { FeedForward } from './ffn';
import type { AttentionMask } from './mask';
import { hook, type Trace } from '../trace/step';

/** Where the norm sits around each sublayer. */
export type NormPlacement =
  /** x + Sublayer(LayerNorm(x)): GPT-2, Llama, and the widely copied tutorial code. */
  | 'pre'
  /** LayerNorm(x + Sublayer(x)): the 2017 paper, BERT, Marian. */
  | 'post';

/** The sublayers of a block, in order; layer order is data, not flags. */
export type Sublayer =
  | { kind: 'attn'; attn: MultiHeadAttention; norm: Norm }
  | { kind: 'cross_attn'; attn: MultiHeadAttention; norm: Norm }
  | { kind: 'mlp'; ffn: FeedForward; norm: Norm };

const OUT_HOOK = { attn: 'hook_attn_out', cross_attn: 'hook_cross_attn_out', mlp: 'hook_mlp_out' } as const;
const MID_HOOK = { attn: 'hook_resid_mid', cross_attn: 'hook_resid_mid_cross', mlp: 'hook_resid_mid' } as const;

export interface BlockContext {
  selfMask?: AttentionMask;
  /** Encoder output for cross-attention. */
  memory?: Tensor;
  crossMask?: AttentionMask;
}

/**
 * One Transformer layer: an encoder layer is [attn, mlp], a decoder layer [attn, cross_attn, mlp].
 * Norms are named ln1, ln2, ln3 in sublayer order (the tutorial's addnorm1, addnorm2, addnorm3).
 */
export class Block {
  constructor(
    /** Hook prefix, e.g. `blocks.0` or `decoder.blocks.2`. */
    readonly path: string,
    readonly sublayers: readonly Sublayer[],
    readonly placement: NormPlacement,
  ) {}

  *forward(x: Tensor, ctx: BlockContext): Trace {
    const p = this.path;
    let resid = yield* hook(`${p}.hook_resid_pre`, x);
    for (let n = 0; n < this.sublayers.length; n++) {
      const s = this.sublayers[n];
      const ln = `${p}.ln${n + 1}.hook_normalized`;
      const residName = `${p}.${n === this.sublayers.length - 1 ? 'hook_resid_post' : MID_HOOK[s.kind]}`;
      if (this.placement === 'pre') {
        const h = yield* hook(ln, s.norm.forward(resid));
        const out = yield* hook(`${p}.${OUT_HOOK[s.kind]}`, yield* runSublayer(s, h, ctx));
        resid = yield* hook(residName, add(resid, out));
      } else {
        const out = yield* hook(`${p}.${OUT_HOOK[s.kind]}`, yield* runSublayer(s, resid, ctx));
        const sum = yield* hook(residName, add(resid, out));
        resid = yield* hook(ln, s.norm.forward(sum));
      }
    }
    return resid;
  }
}

function* runSublayer(s: Sublayer, h: Tensor, ctx: BlockContext): Trace {
  switch (s.kind) {
    case 'attn':
      return yield* s.attn.forward(h, h, ctx.selfMask);
    case 'cross_attn':
      if (!ctx.memory) throw new Error('cross-attention needs the encoder output');
      return yield* s.attn.forward(h, ctx.memory, ctx.crossMask);
    case 'mlp':
      return yield* s.ffn.forward(h);
  }
}

/** A stack of blocks with an optional final norm (`ln_final`). */
export class Stack {
  constructor(
    /** '' for single-stack models, 'encoder.' / 'decoder.' for encoder-decoder ones. */
    readonly prefix: string,
    readonly blocks: readonly Block[],
    readonly finalNorm?: Norm,
  ) {}

  *forward(x: Tensor, ctx: BlockContext): Trace {
    for (const b of this.blocks) x = yield* b.forward(x, ctx);
    if (this.finalNorm) x = yield* hook(`${this.prefix}ln_final.hook_normalized`, this.finalNorm.forward(x));
    return x;
  }
}
