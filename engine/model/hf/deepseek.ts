import { InspectorError } from '../../errors';
import type { DeepseekConfig } from '../../config/hf/deepseek';
import { Embedding } from '../../nn/embedding';
import { Linear } from '../../nn/linear';
import { RMSNorm, type NormSpec } from '../../nn/norm';
import { GatedFeedForward } from '../../nn/ffn';
import { MultiHeadLatentAttention } from '../../nn/mla';
import { MixtureOfExperts } from '../../nn/moe';
import { Block, Stack, type FeedForwardModule } from '../../nn/block';
import type { ModelSpec } from '../spec';
import type { TransformerModel } from '../transformer';
import { WeightLoader, type WeightSource } from '../weights';
import { linear, HF_ACTIVATIONS, HF_SPEC_DEFAULTS, assemble, causalLmHead } from './common';
import { rotaryBuffers } from './llama';

/**
 * DeepSeek-V2 (DeepseekV2ForCausalLM): Llama-like pre-norm RMSNorm decoder with multi-head latent
 * attention and DeepSeek-MoE feed-forwards after the first `first_k_dense_replace` layers.
 */
/** The run spec of a resolved DeepSeek-V2 config; refuses what the engine does not run, naming the key. */
export function deepseekRunSpec(cfg: DeepseekConfig): ModelSpec {
  const fail = (key: string, message: string): never => {
    throw new InspectorError(message, { file: cfg.file, key });
  };
  if (cfg.ropeScaled) fail(cfg.rope.key, `RoPE scaling (rope_type "${cfg.rope.type}"; YaRN) is not supported when running: remove it to run at the base frequencies`);
  if (cfg.mla.rope % 2 !== 0) fail('qk_rope_head_dim', 'RoPE rotates pairs of dims: qk_rope_head_dim must be even');
  if (cfg.moe.routed > 0 && cfg.moe.scoring !== 'softmax')
    fail('scoring_func', `router scoring "${cfg.moe.scoring}" is not supported when running (DeepSeek-V2 uses softmax)`);
  if (cfg.moe.routed > 0 && !['greedy', 'gready', 'group_limited_greedy'].includes(cfg.moe.topkMethod))
    fail('topk_method', `'topk_method' must be one of greedy, gready, group_limited_greedy, got "${cfg.moe.topkMethod}"`);
  const act = cfg.activation.fn ?? fail('hidden_act', `activation "${cfg.activation.name}" is not supported (known: ${Object.keys(HF_ACTIVATIONS).join(', ')})`);
  const { nope, rope } = cfg.mla;
  return {
    ...HF_SPEC_DEFAULTS,
    family: cfg.family,
    architecture: 'decoder',
    vocabSize: cfg.vocab,
    tgtVocabSize: cfg.vocab,
    dModel: cfg.hidden,
    numHeads: cfg.heads,
    kvHeads: cfg.heads,
    headDim: nope + rope,
    ffn: 'swiglu',
    dFF: cfg.ff,
    numLayers: cfg.layers,
    maxLen: cfg.maxPos,
    placement: 'pre',
    norm: { kind: 'rmsnorm', eps: cfg.eps, gainOffset: 0 },
    activation: act,
    positional: { kind: 'rotary', layout: 'half', theta: cfg.ropeTheta, partialFactor: rope / (nope + rope) },
    finalNorm: true,
    scaleEmbedding: false,
    tieEmbeddings: cfg.tie,
    outputBias: false,
  };
}

/** Weights by DeepSeek's names, with the MLA sizes, MoE layout and router the description resolved. */
export function buildDeepseekModel(cfg: DeepseekConfig, spec: ModelSpec, source?: WeightSource): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const d = spec.dModel;
  const H = spec.numHeads;
  const sizes = {
    heads: H,
    kvLoraRank: cfg.mla.kvLora,
    qLoraRank: cfg.mla.qLora ?? undefined,
    qkNopeHeadDim: cfg.mla.nope,
    qkRopeHeadDim: cfg.mla.rope,
    vHeadDim: cfg.mla.v,
  };
  const dq = sizes.qkNopeHeadDim + sizes.qkRopeHeadDim;
  const bias = cfg.mla.bias;
  const normSpec = spec.norm as NormSpec & { kind: 'rmsnorm' };
  const norm = (name: string, width = d) =>
    new RMSNorm(normSpec, w.take(`${name}.weight`, [width], { kind: 'ones' }));
  const rope = {
    layout: 'half' as const,
    theta: spec.positional.kind === 'rotary' ? spec.positional.theta : 10000,
    rotaryDim: sizes.qkRopeHeadDim,
  };
  const swiglu = (hp: string, wp: string, inner: number) =>
    new GatedFeedForward(
      hp,
      linear(w, `${wp}.gate_proj`, inner, d, false),
      linear(w, `${wp}.up_proj`, inner, d, false),
      linear(w, `${wp}.down_proj`, d, inner, false),
      spec.activation,
    );
  const m = cfg.moe;
  const experts = m.routed;
  const moeInner = m.expertFF;
  const shared = m.shared;
  // DeepSeek's own config class spells the default "gready".
  const method = m.topkMethod === 'group_limited_greedy' ? 'group_limited_greedy' : 'greedy';
  const blocks: Block[] = [];
  for (let i = 0; i < spec.numLayers; i++) {
    const wp = `model.layers.${i}`;
    const hp = `blocks.${i}`;
    const a = `${wp}.self_attn`;
    const q =
      sizes.qLoraRank === undefined
        ? { kind: 'direct' as const, proj: linear(w, `${a}.q_proj`, H * dq, d, false) }
        : {
            kind: 'lora' as const,
            down: linear(w, `${a}.q_a_proj`, sizes.qLoraRank, d, bias),
            norm: norm(`${a}.q_a_layernorm`, sizes.qLoraRank),
            up: linear(w, `${a}.q_b_proj`, H * dq, sizes.qLoraRank, false),
          };
    const attn = new MultiHeadLatentAttention(
      `${hp}.attn`,
      sizes,
      q,
      linear(w, `${a}.kv_a_proj_with_mqa`, sizes.kvLoraRank + sizes.qkRopeHeadDim, d, bias),
      norm(`${a}.kv_a_layernorm`, sizes.kvLoraRank),
      linear(w, `${a}.kv_b_proj`, H * (sizes.qkNopeHeadDim + sizes.vHeadDim), sizes.kvLoraRank, false),
      linear(w, `${a}.o_proj`, d, H * sizes.vHeadDim, bias),
      rope,
      1 / Math.sqrt(dq),
    );
    let ffn: FeedForwardModule;
    if (cfg.isMoeLayer(i)) {
      const routed = Array.from({ length: experts }, (_, e) =>
        swiglu(`${hp}.mlp.experts.${e}`, `${wp}.mlp.experts.${e}`, moeInner),
      );
      ffn = new MixtureOfExperts(
        `${hp}.mlp`,
        new Linear(w.take(`${wp}.mlp.gate.weight`, [experts, d], { kind: 'uniform', fanIn: d })),
        routed,
        shared > 0
          ? swiglu(`${hp}.mlp.shared_experts`, `${wp}.mlp.shared_experts`, moeInner * shared)
          : undefined,
        { topK: m.topK, method, groups: m.groups, topkGroups: m.topkGroups, normTopK: m.normTopK, scale: m.scale },
      );
    } else {
      ffn = swiglu(`${hp}.mlp`, `${wp}.mlp`, spec.dFF);
    }
    blocks.push(
      new Block(
        hp,
        [
          { kind: 'attn', attn, norm: norm(`${wp}.input_layernorm`) },
          { kind: 'mlp', ffn, norm: norm(`${wp}.post_attention_layernorm`) },
        ],
        'pre',
      ),
    );
  }
  rotaryBuffers(w, spec.numLayers, rope);
  const emb = w.take('model.embed_tokens.weight', [spec.vocabSize, d], { kind: 'embedding' });
  const head = causalLmHead(w, spec, emb);
  const stack = new Stack('', blocks, norm('model.norm'));
  return assemble(
    spec,
    w,
    source,
    { embed: { token: new Embedding(emb) }, stack, causal: true },
    undefined,
    head,
  );
}
