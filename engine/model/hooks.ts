import { HOOK_DIMS, type Dim, type HookKind } from '../trace/hooks';
import type { ModelSpec } from './spec';

/**
 * Every hook a model's forward pass fires, with its shape, derived from its one description (issue 8):
 * the run spec gives the stacks, sublayers and sizes; a family adds what the spec does not say
 * (DeepSeek's latent attention sizes and which layers are mixtures of experts, BERT's token-type
 * embedding and embedding norm). The symbolic axes come from HOOK_DIMS, the only table of them; this
 * file gives the names and the concrete sizes. A test runs every family and checks that exactly these
 * hooks fire, with these shapes.
 */

/** What one attention sublayer records. */
export type AttentionHooks =
  | { readonly kind: 'standard'; readonly heads: number; readonly kvHeads: number; readonly headDim: number; readonly rope: boolean }
  /** DeepSeek's multi-head latent attention: q/k over nope + rope dims, v over vHeadDim, one shared RoPE key. */
  | { readonly kind: 'mla'; readonly heads: number; readonly qkHeadDim: number; readonly vHeadDim: number; readonly latent: number; readonly ropeDim: number; readonly qLatent: number | null }
  /** Perceiver-style bottleneck: `to_latents` (m latents attend to the input), then `from_latents`. */
  | { readonly kind: 'latent_bottleneck'; readonly heads: number; readonly headDim: number; readonly latents: number };

export type FfnHooks =
  | { readonly kind: 'mlp' | 'gated'; readonly dMlp: number }
  /** The router's probabilities and the applied weights; the experts run untraced. */
  | { readonly kind: 'moe'; readonly experts: number; readonly topK: number; readonly method: string; readonly shared: boolean };

export interface LayerHooks {
  readonly attn: AttentionHooks;
  readonly cross?: AttentionHooks;
  readonly ffn: FfnHooks;
}

export interface StackHooks {
  /** '' for a single stack, 'encoder.' / 'decoder.'. */
  readonly prefix: string;
  /** Which input length this stack runs over. */
  readonly length: 'pos' | 'decoderPos';
  readonly positions: boolean;
  readonly tokenTypes: boolean;
  readonly embedNorm: boolean;
  readonly placement: 'pre' | 'post';
  readonly layers: readonly LayerHooks[];
  readonly finalNorm: boolean;
  /** Attention scores and patterns are recorded (not by the flash implementation, which never forms them). */
  readonly patterns: boolean;
}

export interface HookPlan {
  readonly stacks: readonly StackHooks[];
  readonly dModel: number;
  readonly vocab: number;
}

/** What a family knows beyond the run spec. */
export interface HookVariants {
  readonly tokenTypes?: boolean;
  readonly embedNorm?: boolean;
  /** Replace the self-attention of a layer (DeepSeek's MLA). */
  readonly attention?: (layer: number) => AttentionHooks;
  /** Replace the feed-forward of a layer (mixtures of experts). */
  readonly ffn?: (layer: number) => FfnHooks;
}

export function hookPlan(spec: ModelSpec, v: HookVariants = {}): HookPlan {
  const rope = spec.positional.kind === 'rotary';
  const standard = (selfAttn: boolean): AttentionHooks =>
    spec.attention.kind === 'latent_bottleneck' && selfAttn
      ? { kind: 'latent_bottleneck', heads: spec.numHeads, headDim: spec.headDim, latents: spec.attention.numLatents }
      : { kind: 'standard', heads: spec.numHeads, kvHeads: spec.kvHeads, headDim: spec.headDim, rope: rope && selfAttn };
  const ffn: FfnHooks = { kind: spec.ffn === 'mlp' ? 'mlp' : 'gated', dMlp: spec.dFF };
  const layers = (n: number, cross: boolean): LayerHooks[] =>
    Array.from({ length: n }, (_, i) => ({
      attn: v.attention?.(i) ?? standard(true),
      ...(cross ? { cross: standard(false) } : {}),
      ffn: v.ffn?.(i) ?? ffn,
    }));
  const positions = spec.positional.kind === 'learned' || spec.positional.kind === 'sinusoidal';
  const stack = (prefix: string, length: StackHooks['length'], n: number, cross: boolean): StackHooks => ({
    prefix,
    length,
    positions,
    tokenTypes: v.tokenTypes ?? false,
    embedNorm: v.embedNorm ?? false,
    placement: spec.placement,
    layers: layers(n, cross),
    finalNorm: spec.finalNorm,
    patterns: spec.attentionImpl !== 'flash',
  });
  const stacks =
    spec.architecture === 'encoder-decoder'
      ? [stack('encoder.', 'pos', spec.numLayers, false), stack('decoder.', 'decoderPos', spec.numDecoderLayers, true)]
      : [stack('', 'pos', spec.numLayers, false)];
  return { stacks, dModel: spec.dModel, vocab: spec.architecture === 'encoder-decoder' ? spec.tgtVocabSize : spec.vocabSize };
}

export interface DeclaredHook {
  readonly name: string;
  readonly dims: readonly Dim[];
  readonly shape: readonly number[];
}

export interface HookSizes {
  readonly batch: number;
  readonly pos: number;
  /** Decoder length of an encoder-decoder model. */
  readonly decoderPos?: number;
}

/** Every hook of one forward pass over inputs of these sizes, in the order they fire (MLA's own order aside). */
export function declaredHooks(plan: HookPlan, sizes: HookSizes): DeclaredHook[] {
  const out: DeclaredHook[] = [];
  const B = sizes.batch;
  const D = plan.dModel;
  const add = (name: string, ...shape: number[]): void => {
    const kind = name.slice(name.lastIndexOf('.') + 1) as HookKind;
    const dims = HOOK_DIMS[kind];
    if (!dims || dims.length !== shape.length) throw new Error(`hook plan: ${name} is not declared as rank ${shape.length} in HOOK_DIMS`);
    out.push({ name, dims, shape });
  };
  let encoderLength = sizes.pos;
  for (const s of plan.stacks) {
    const T = s.length === 'pos' ? sizes.pos : (sizes.decoderPos ?? sizes.pos);
    const p = s.prefix;
    add(`${p}hook_embed`, B, T, D);
    if (s.positions) add(`${p}hook_pos_embed`, B, T, D);
    if (s.tokenTypes) add(`${p}hook_token_type_embed`, B, T, D);
    if (s.embedNorm) add(`${p}ln_embed.hook_normalized`, B, T, D);
    s.layers.forEach((layer, i) => {
      const bp = `${p}blocks.${i}`;
      add(`${bp}.hook_resid_pre`, B, T, D);
      const subs: [kind: 'attn' | 'cross_attn' | 'mlp', hooks: () => void][] = [[`attn`, () => attention(`${bp}.attn`, layer.attn, T, T)]];
      if (layer.cross) subs.push(['cross_attn', () => attention(`${bp}.cross_attn`, layer.cross!, T, encoderLength)]);
      subs.push(['mlp', () => feedForward(`${bp}.mlp`, layer.ffn, T)]);
      subs.forEach(([kind, hooks], n) => {
        const ln = () => add(`${bp}.ln${n + 1}.hook_normalized`, B, T, D);
        const last = n === subs.length - 1;
        const outName = kind === 'attn' ? 'hook_attn_out' : kind === 'cross_attn' ? 'hook_cross_attn_out' : 'hook_mlp_out';
        const residName = last ? 'hook_resid_post' : kind === 'cross_attn' ? 'hook_resid_mid_cross' : 'hook_resid_mid';
        if (s.placement === 'pre') ln();
        hooks();
        add(`${bp}.${outName}`, B, T, D);
        add(`${bp}.${residName}`, B, T, D);
        if (s.placement === 'post') ln();
      });
    });
    if (s.finalNorm) add(`${p}ln_final.hook_normalized`, B, T, D);
    encoderLength = T;

    function attention(ap: string, a: AttentionHooks, Tq: number, Tk: number): void {
      if (a.kind === 'latent_bottleneck') {
        attention(`${ap}.to_latents`, { kind: 'standard', heads: a.heads, kvHeads: a.heads, headDim: a.headDim, rope: false }, a.latents, Tk);
        attention(`${ap}.from_latents`, { kind: 'standard', heads: a.heads, kvHeads: a.heads, headDim: a.headDim, rope: false }, Tq, a.latents);
        return;
      }
      if (a.kind === 'mla') {
        add(`${ap}.hook_q`, B, Tq, a.heads, a.qkHeadDim);
        add(`${ap}.hook_kv_latent`, B, Tq, a.latent);
        add(`${ap}.hook_v`, B, Tq, a.heads, a.vHeadDim);
        add(`${ap}.hook_rot_k`, B, Tq, 1, a.ropeDim);
        add(`${ap}.hook_k`, B, Tq, a.heads, a.qkHeadDim);
        add(`${ap}.hook_rot_q`, B, Tq, a.heads, a.qkHeadDim);
        if (s.patterns) add(`${ap}.hook_attn_scores`, B, a.heads, Tq, Tq);
        if (s.patterns) add(`${ap}.hook_pattern`, B, a.heads, Tq, Tq);
        add(`${ap}.hook_z`, B, Tq, a.heads, a.vHeadDim);
        return;
      }
      add(`${ap}.hook_q`, B, Tq, a.heads, a.headDim);
      add(`${ap}.hook_k`, B, Tk, a.kvHeads, a.headDim);
      add(`${ap}.hook_v`, B, Tk, a.kvHeads, a.headDim);
      if (a.rope) {
        add(`${ap}.hook_rot_q`, B, Tq, a.heads, a.headDim);
        add(`${ap}.hook_rot_k`, B, Tk, a.kvHeads, a.headDim);
      }
      if (s.patterns) add(`${ap}.hook_attn_scores`, B, a.heads, Tq, Tk);
      if (s.patterns) add(`${ap}.hook_pattern`, B, a.heads, Tq, Tk);
      add(`${ap}.hook_z`, B, Tq, a.heads, a.headDim);
    }

    function feedForward(fp: string, f: FfnHooks, Tq: number): void {
      if (f.kind === 'moe') {
        add(`${fp}.hook_router_probs`, B, Tq, f.experts);
        add(`${fp}.hook_expert_weights`, B, Tq, f.experts);
        return;
      }
      add(`${fp}.hook_pre`, B, Tq, f.dMlp);
      if (f.kind === 'gated') add(`${fp}.hook_pre_linear`, B, Tq, f.dMlp);
      add(`${fp}.hook_post`, B, Tq, f.dMlp);
    }
  }
  add('logits', B, plan.stacks[plan.stacks.length - 1].length === 'pos' ? sizes.pos : (sizes.decoderPos ?? sizes.pos), plan.vocab);
  return out;
}
