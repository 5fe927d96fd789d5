import { ConfigReader, type JsonObject } from '../../config/json';
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
import { activation, linear, HF_SPEC_DEFAULTS, assemble, causalLmHead } from './common';

/**
 * DeepSeek-V2 (DeepseekV2ForCausalLM): Llama-like pre-norm RMSNorm decoder with multi-head latent
 * attention and DeepSeek-MoE feed-forwards after the first `first_k_dense_replace` layers.
 */
export function deepseekV2Spec(obj: JsonObject, file?: string): ModelSpec {
  const r = new ConfigReader(obj, file);
  const d = r.int('hidden_size', { max: 1_000_000 });
  const heads = r.int('num_attention_heads', { max: 1_000_000 });
  if (r.has('rope_scaling'))
    r.fail(
      'rope_scaling',
      'RoPE scaling (YaRN) is not supported when running: remove it to run at the base frequencies',
    );
  const nope = r.int('qk_nope_head_dim', { default: 128 });
  const ropeDim = r.int('qk_rope_head_dim', { default: 64 });
  if (ropeDim % 2 !== 0)
    r.fail('qk_rope_head_dim', 'RoPE rotates pairs of dims: qk_rope_head_dim must be even');
  r.int('kv_lora_rank', { default: 512 });
  r.int('v_head_dim', { default: 128 });
  if (r.has('q_lora_rank')) r.int('q_lora_rank');
  return {
    ...HF_SPEC_DEFAULTS,
    family: 'deepseek_v2',
    architecture: 'decoder',
    vocabSize: r.int('vocab_size', { max: 10_000_000 }),
    tgtVocabSize: r.int('vocab_size', { max: 10_000_000 }),
    dModel: d,
    numHeads: heads,
    kvHeads: heads,
    headDim: nope + ropeDim,
    ffn: 'swiglu',
    dFF: r.int('intermediate_size', { max: 10_000_000 }),
    numLayers: r.int('num_hidden_layers', { max: 10_000 }),
    maxLen: r.int('max_position_embeddings', { default: 2048 }),
    placement: 'pre',
    norm: {
      kind: 'rmsnorm',
      eps: r.number('rms_norm_eps', { default: 1e-6, min: 0, exclusiveMin: true }),
      gainOffset: 0,
    },
    activation: activation(r, 'hidden_act', 'silu'),
    positional: {
      kind: 'rotary',
      layout: 'half',
      theta: r.number('rope_theta', { default: 10000, min: 1 }),
      partialFactor: ropeDim / (nope + ropeDim),
    },
    finalNorm: true,
    scaleEmbedding: false,
    tieEmbeddings: r.bool('tie_word_embeddings', false),
    outputBias: false,
  };
}

export function buildDeepseekV2(spec: ModelSpec, obj: JsonObject, source?: WeightSource): TransformerModel {
  const r = new ConfigReader(obj);
  const w = new WeightLoader(source, spec.seed);
  const d = spec.dModel;
  const H = spec.numHeads;
  const sizes = {
    heads: H,
    kvLoraRank: r.int('kv_lora_rank', { default: 512 }),
    qLoraRank: r.has('q_lora_rank') ? r.int('q_lora_rank') : undefined,
    qkNopeHeadDim: r.int('qk_nope_head_dim', { default: 128 }),
    qkRopeHeadDim: r.int('qk_rope_head_dim', { default: 64 }),
    vHeadDim: r.int('v_head_dim', { default: 128 }),
  };
  const dq = sizes.qkNopeHeadDim + sizes.qkRopeHeadDim;
  const bias = r.bool('attention_bias', false);
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
  const experts = r.has('n_routed_experts') ? r.int('n_routed_experts') : 0;
  const firstDense = r.int('first_k_dense_replace', { default: 0, min: 0 });
  const freq = r.int('moe_layer_freq', { default: 1 });
  const moeInner = r.int('moe_intermediate_size', { default: spec.dFF });
  const shared = r.has('n_shared_experts') ? r.int('n_shared_experts', { min: 0 }) : 0;
  const scoring = r.string('scoring_func', 'softmax');
  if (experts > 0 && scoring !== 'softmax')
    r.fail(
      'scoring_func',
      `router scoring "${scoring}" is not supported when running (DeepSeek-V2 uses softmax)`,
    );
  // DeepSeek's own config class spells the default "gready".
  const method =
    experts > 0
      ? r.oneOf('topk_method', ['greedy', 'gready', 'group_limited_greedy'] as const, 'greedy')
      : 'greedy';
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
    if (experts > 0 && i >= firstDense && i % freq === 0) {
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
        {
          topK: r.int('num_experts_per_tok', { max: experts }),
          method: method === 'gready' ? 'greedy' : method,
          groups: r.int('n_group', { default: 1 }),
          topkGroups: r.int('topk_group', { default: 1 }),
          normTopK: r.bool('norm_topk_prob', false),
          scale: r.number('routed_scaling_factor', { default: 1 }),
        },
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
