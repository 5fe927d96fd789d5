import { ConfigReader, type JsonObject } from '../../config/json';
import { Embedding } from '../../nn/embedding';
import { RMSNorm, type NormSpec } from '../../nn/norm';
import { MultiHeadAttention } from '../../nn/attention';
import { GatedFeedForward } from '../../nn/ffn';
import { Block, Stack } from '../../nn/block';
import type { MaskRule } from '../../nn/mask';
import type { ModelSpec } from '../spec';
import type { TransformerModel } from '../transformer';
import { WeightLoader, type WeightSource } from '../weights';
import { activation, linear, requireDivisible, HF_SPEC_DEFAULTS, assemble, causalLmHead } from './common';

/**
 * The Llama family: llama, mistral, qwen2, gemma. Pre-norm RMSNorm, RoPE in the rotate_half layout,
 * grouped-query attention, SwiGLU (GeGLU with tanh GELU for Gemma). Family differences:
 * - qwen2: q/k/v biases (no o bias); sliding window only when use_sliding_window, on layers ≥ max_window_layers;
 * - mistral: sliding window on every layer (query i sees keys i − W < j ≤ i);
 * - gemma: RMSNorm multiplies by (1 + weight), embeddings × √hidden_size, head_dim from the config, tied head.
 */
export type LlamaFamily = 'llama' | 'mistral' | 'qwen2' | 'gemma';

const DEFAULTS: Record<LlamaFamily, { act: string; tie: boolean; eps: number; theta: number }> = {
  llama: { act: 'silu', tie: false, eps: 1e-6, theta: 10000 },
  mistral: { act: 'silu', tie: false, eps: 1e-6, theta: 10000 },
  qwen2: { act: 'silu', tie: false, eps: 1e-6, theta: 10000 },
  gemma: { act: 'gelu_pytorch_tanh', tie: true, eps: 1e-6, theta: 10000 },
};

export function llamaSpec(family: LlamaFamily, obj: JsonObject, file?: string): ModelSpec {
  const r = new ConfigReader(obj, file);
  const def = DEFAULTS[family];
  const d = r.int('hidden_size', { max: 1_000_000 });
  const heads = r.int('num_attention_heads', { max: 1_000_000 });
  const kvHeads = r.int('num_key_value_heads', { default: heads, max: heads });
  requireDivisible(r, 'num_key_value_heads', heads, 'num_attention_heads', kvHeads);
  const headDim = r.has('head_dim') ? r.int('head_dim') : d / heads;
  if (!r.has('head_dim')) requireDivisible(r, 'num_attention_heads', d, 'hidden_size', heads);
  const partial = r.number('partial_rotary_factor', { default: 1, min: 0, max: 1, exclusiveMin: true });
  const rotaryDim = Math.round(headDim * partial);
  if (rotaryDim % 2 !== 0) r.fail('partial_rotary_factor', `rotated dims (${rotaryDim}) must be even`);
  if (r.has('rope_scaling'))
    r.fail(
      'rope_scaling',
      'RoPE scaling (linear/dynamic/yarn/llama3) is not supported yet: remove it to run at the base frequencies',
    );
  const actKey = family === 'gemma' && r.has('hidden_activation') ? 'hidden_activation' : 'hidden_act';
  return {
    ...HF_SPEC_DEFAULTS,
    family,
    architecture: 'decoder',
    vocabSize: r.int('vocab_size', { max: 10_000_000 }),
    tgtVocabSize: r.int('vocab_size', { max: 10_000_000 }),
    dModel: d,
    numHeads: heads,
    kvHeads,
    headDim,
    ffn: 'swiglu',
    dFF: r.int('intermediate_size', { max: 10_000_000 }),
    numLayers: r.int('num_hidden_layers', { max: 10_000 }),
    maxLen: r.int('max_position_embeddings', { default: 2048 }),
    placement: 'pre',
    norm: {
      kind: 'rmsnorm',
      eps: r.number('rms_norm_eps', { default: def.eps, min: 0, exclusiveMin: true }),
      gainOffset: family === 'gemma' ? 1 : 0,
    },
    activation:
      family === 'gemma' && actKey === 'hidden_act' && r.string('hidden_act', 'gelu') === 'gelu'
        ? 'gelu_tanh'
        : activation(r, actKey, def.act),
    positional: {
      kind: 'rotary',
      layout: 'half',
      theta: r.number('rope_theta', { default: def.theta, min: 1 }),
      partialFactor: partial,
    },
    finalNorm: true,
    scaleEmbedding: family === 'gemma',
    tieEmbeddings: r.bool('tie_word_embeddings', def.tie),
    outputBias: false,
  };
}

/** Per-layer sliding windows from the config, as mask rules. */
function layerWindows(family: LlamaFamily, obj: JsonObject, layers: number): (i: number) => MaskRule[] {
  const r = new ConfigReader(obj);
  if (family === 'mistral' && r.has('sliding_window')) {
    const window = r.int('sliding_window');
    return () => [{ kind: 'sliding_window', window }];
  }
  if (family === 'qwen2' && r.bool('use_sliding_window', false) && r.has('sliding_window')) {
    const window = r.int('sliding_window');
    const from = r.int('max_window_layers', { default: layers, min: 0 });
    return (i) => (i >= from ? [{ kind: 'sliding_window', window }] : []);
  }
  return () => [];
}

export function buildLlama(
  family: LlamaFamily,
  spec: ModelSpec,
  obj: JsonObject,
  source?: WeightSource,
): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const d = spec.dModel;
  const qkvBias = family === 'qwen2' || new ConfigReader(obj).bool('attention_bias', false);
  const oBias = family !== 'qwen2' && new ConfigReader(obj).bool('attention_bias', false);
  const mlpBias = new ConfigReader(obj).bool('mlp_bias', false);
  const normSpec = spec.norm as NormSpec & { kind: 'rmsnorm' };
  const norm = (name: string) =>
    new RMSNorm(normSpec, w.take(`${name}.weight`, [d], { kind: family === 'gemma' ? 'zeros' : 'ones' }));
  const rope =
    spec.positional.kind === 'rotary'
      ? {
          layout: spec.positional.layout,
          theta: spec.positional.theta,
          rotaryDim: Math.round(spec.headDim * spec.positional.partialFactor),
        }
      : undefined;
  const windows = layerWindows(family, obj, spec.numLayers);
  const qWidth = spec.numHeads * spec.headDim;
  const kvWidth = spec.kvHeads * spec.headDim;
  const blocks: Block[] = [];
  for (let i = 0; i < spec.numLayers; i++) {
    const wp = `model.layers.${i}`;
    const hp = `blocks.${i}`;
    const attn = new MultiHeadAttention(
      `${hp}.attn`,
      spec.numHeads,
      linear(w, `${wp}.self_attn.q_proj`, qWidth, d, qkvBias),
      linear(w, `${wp}.self_attn.k_proj`, kvWidth, d, qkvBias),
      linear(w, `${wp}.self_attn.v_proj`, kvWidth, d, qkvBias),
      linear(w, `${wp}.self_attn.o_proj`, d, qWidth, oBias),
      { kvHeads: spec.kvHeads, headDim: spec.headDim, rope, impl: spec.attentionImpl },
    );
    const mlp = new GatedFeedForward(
      `${hp}.mlp`,
      linear(w, `${wp}.mlp.gate_proj`, spec.dFF, d, mlpBias),
      linear(w, `${wp}.mlp.up_proj`, spec.dFF, d, mlpBias),
      linear(w, `${wp}.mlp.down_proj`, d, spec.dFF, mlpBias),
      spec.activation,
    );
    blocks.push(
      new Block(
        hp,
        [
          { kind: 'attn', attn, norm: norm(`${wp}.input_layernorm`) },
          { kind: 'mlp', ffn: mlp, norm: norm(`${wp}.post_attention_layernorm`) },
        ],
        'pre',
        windows(i),
      ),
    );
  }
  const emb = w.take('model.embed_tokens.weight', [spec.vocabSize, d], { kind: 'embedding' });
  // Gemma multiplies by √hidden_size cast to the compute dtype (fp32 here).
  const token = new Embedding(emb, spec.scaleEmbedding ? Math.fround(Math.sqrt(d)) : 1);
  const head = causalLmHead(w, spec, emb);
  const stack = new Stack('', blocks, norm('model.norm'));
  return assemble(spec, w, source, { embed: { token }, stack, causal: true }, undefined, head);
}
