import { Tensor } from '../tensor';
import { add } from './linear';
import type { Norm } from './norm';
import type { MaskRule } from './mask';
import { hook, type Trace } from '../trace/step';
import type { KVCache } from './kvcache';
import { InspectorError } from '../errors';

/** Where the norm sits around each sublayer. */
export type NormPlacement =
  /** x + Sublayer(LayerNorm(x)): GPT-2, Llama, and the widely copied tutorial code. */
  | 'pre'
  /** LayerNorm(x + Sublayer(x)): the 2017 paper, BERT, Marian. */
  | 'post';

/**
 * What a module says about itself, for the sidebar tree and the panel: its hook path, its honest name,
 * a one-line detail, the parameter tensors it owns (tied tensors are the same object) and its heads.
 */
export interface ModuleSummary {
  /** Hook prefix, e.g. `blocks.0.attn`. */
  path: string;
  /** Honest name of the variant, e.g. 'Grouped-query attention', 'SwiGLU feed-forward'. */
  label: string;
  /** e.g. '8 heads × 64, 2 KV heads, RoPE (half, θ = 10000)'. */
  detail: string;
  tensors: Tensor[];
  heads?: { count: number; headDim: number };
  /** Nested modules (e.g. the two attentions of a latent-bottleneck attention). */
  children?: ModuleSummary[];
}

/** Any attention kind: queries from xq attend to keys/values from xkv under the mask rules. */
export interface AttentionModule {
  readonly path: string;
  summary(): ModuleSummary;
  /** Self-attention with a KV cache: xq = xkv are the new positions only, the cache holds the earlier ones. */
  forward(xq: Tensor, xkv: Tensor, rules: readonly MaskRule[], cache?: KVCache): Trace;
  /** This kind can decode with a KV cache. */
  readonly cacheable?: boolean;
}

/** Any position-wise feed-forward kind. */
export interface FeedForwardModule {
  readonly path: string;
  summary(): ModuleSummary;
  forward(x: Tensor): Trace;
}

/** The sublayers of a block, in order; layer order is data, not flags. */
export type Sublayer =
  | { kind: 'attn'; attn: AttentionModule; norm: Norm }
  | { kind: 'cross_attn'; attn: AttentionModule; norm: Norm }
  | { kind: 'mlp'; ffn: FeedForwardModule; norm: Norm };

const OUT_HOOK = { attn: 'hook_attn_out', cross_attn: 'hook_cross_attn_out', mlp: 'hook_mlp_out' } as const;
const MID_HOOK = { attn: 'hook_resid_mid', cross_attn: 'hook_resid_mid_cross', mlp: 'hook_resid_mid' } as const;

/** One residual step around a sublayer: norm, sublayer and add in the placement's order, with their hooks. */
type Residual = (x: Tensor, s: Sublayer, names: { ln: string; out: string; resid: string }, run: (h: Tensor) => Trace) => Trace;

const RESIDUAL = {
  /** x + Sublayer(Norm(x)). */
  pre: function* (x, s, names, run) {
    const h = yield* hook(names.ln, s.norm.forward(x));
    const out = yield* hook(names.out, yield* run(h));
    return yield* hook(names.resid, add(x, out));
  },
  /** Norm(x + Sublayer(x)); the sum before the norm is the resid hook. */
  post: function* (x, s, names, run) {
    const out = yield* hook(names.out, yield* run(x));
    const sum = yield* hook(names.resid, add(x, out));
    return yield* hook(names.ln, s.norm.forward(sum));
  },
} satisfies Record<NormPlacement, Residual>;

export interface BlockContext {
  /** Mask rules of self-attention (causal, padding, windows…), ANDed together. */
  selfRules?: readonly MaskRule[];
  /** Encoder output for cross-attention. */
  memory?: Tensor;
  crossRules?: readonly MaskRule[];
  /** Per-layer extra self-attention rules (e.g. sliding windows on some layers only), by block index. */
  layerRules?: (layer: number) => readonly MaskRule[];
  /** Keys/values of earlier positions (decoding): the input holds only the new positions. */
  cache?: KVCache;
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
    /** Extra self-attention mask rules of this layer (e.g. a sliding window). */
    readonly extraRules: readonly MaskRule[] = [],
  ) {
    this.residual = RESIDUAL[placement];
  }

  /** The residual wrapper of this placement, chosen once: forward has no placement branch. */
  private readonly residual: Residual;

  *forward(x: Tensor, ctx: BlockContext): Trace {
    const p = this.path;
    let resid = yield* hook(`${p}.hook_resid_pre`, x);
    for (let n = 0; n < this.sublayers.length; n++) {
      const s = this.sublayers[n];
      const ln = `${p}.ln${n + 1}.hook_normalized`;
      const residName = `${p}.${n === this.sublayers.length - 1 ? 'hook_resid_post' : MID_HOOK[s.kind]}`;
      resid = yield* this.residual(resid, s, { ln, out: `${p}.${OUT_HOOK[s.kind]}`, resid: residName }, (h) => this.runSublayer(s, h, ctx));
    }
    return resid;
  }

  private *runSublayer(s: Sublayer, h: Tensor, ctx: BlockContext): Trace {
    switch (s.kind) {
      case 'attn':
        if (ctx.cache && !s.attn.cacheable) throw new InspectorError(`${s.attn.summary().label} cannot decode with a KV cache yet`);
        return yield* s.attn.forward(h, h, [...(ctx.selfRules ?? []), ...this.extraRules], ctx.cache);
      case 'cross_attn':
        if (!ctx.memory) throw new Error('cross-attention needs the encoder output');
        return yield* s.attn.forward(h, ctx.memory, ctx.crossRules ?? []);
      case 'mlp':
        return yield* s.ffn.forward(h);
    }
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

  /** Runs blocks [from, …): `from` > 0 resumes a pass from that block's resid_pre (ablation, patching). */
  *forward(x: Tensor, ctx: BlockContext, from = 0): Trace {
    for (let i = from; i < this.blocks.length; i++) x = yield* this.blocks[i].forward(x, ctx);
    if (this.finalNorm) x = yield* hook(`${this.prefix}ln_final.hook_normalized`, this.finalNorm.forward(x));
    return x;
  }
}
