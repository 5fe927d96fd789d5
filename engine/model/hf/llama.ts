import { InspectorError } from '../../errors';
import type { LlamaConfig } from '../../config/hf/llama';
import { Embedding } from '../../nn/embedding';
import { RMSNorm, type NormSpec } from '../../nn/norm';
import { MultiHeadAttention } from '../../nn/attention';
import { ropeInvFreq, type RopeSpec } from '../../nn/rope';
import { Tensor } from '../../tensor';
import { GatedFeedForward } from '../../nn/ffn';
import { Block, Stack } from '../../nn/block';
import type { MaskRule } from '../../nn/mask';
import type { FfnKind, ModelSpec } from '../spec';
import type { Activation } from '../../kernels/ops';
import type { TransformerModel } from '../transformer';
import { WeightLoader, type WeightSource } from '../weights';
import { linear, HF_SPEC_DEFAULTS, HF_ACTIVATIONS, assemble, causalLmHead } from './common';

/**
 * The Llama family the engine runs: llama, mistral, qwen2, gemma. Pre-norm RMSNorm, RoPE in the
 * rotate_half layout, grouped-query attention, a gated MLP (SwiGLU; GeGLU with tanh GELU for Gemma).
 * Everything family-specific (defaults, biases, windows, Gemma's (1 + g) norm and √d embedding scale)
 * comes resolved from engine/config/hf/llama.ts, the one description the analysis also derives from.
 */
export type LlamaFamily = 'llama' | 'mistral' | 'qwen2' | 'gemma';

/** The run spec of a resolved Llama-shaped config; refuses what the engine does not run, naming the key. */
export function llamaRunSpec(cfg: LlamaConfig): ModelSpec {
  const fail = (key: string, message: string): never => {
    throw new InspectorError(message, { file: cfg.file, key });
  };
  if (cfg.moe) fail('model_type', `${cfg.family} (mixture of experts) is analysed, not run`);
  if (cfg.fused || cfg.norm.sandwich) fail('model_type', `${cfg.family} is analysed, not run`);
  const rotaryDim = Math.round(cfg.headDim * cfg.rope.partialFactor);
  if (rotaryDim % 2 !== 0) fail('partial_rotary_factor', `rotated dims (${rotaryDim}) must be even`);
  if (cfg.rope.scaled)
    fail(cfg.rope.key, `RoPE scaling (rope_type "${cfg.rope.type}"; linear/dynamic/yarn/llama3) is not supported yet: remove it to run at the base frequencies`);
  const act = cfg.activation.fn ?? fail(cfg.family === 'gemma' && cfg.activation.name !== 'gelu_pytorch_tanh' ? 'hidden_activation' : 'hidden_act',
    `activation "${cfg.activation.name}" is not supported (known: ${Object.keys(HF_ACTIVATIONS).join(', ')})`);
  return {
    ...HF_SPEC_DEFAULTS,
    family: cfg.family,
    architecture: 'decoder',
    vocabSize: cfg.vocab,
    tgtVocabSize: cfg.vocab,
    dModel: cfg.hidden,
    numHeads: cfg.heads,
    kvHeads: cfg.kvHeads,
    headDim: cfg.headDim,
    ffn: gatedKind(act),
    dFF: cfg.ff,
    numLayers: cfg.layers,
    maxLen: cfg.maxPos,
    placement: 'pre',
    norm: { kind: 'rmsnorm', eps: cfg.norm.eps, gainOffset: cfg.norm.gainOffset },
    activation: act,
    positional: { kind: 'rotary', layout: 'half', theta: cfg.rope.theta, partialFactor: cfg.rope.partialFactor },
    finalNorm: true,
    scaleEmbedding: cfg.scaleEmbedding,
    tieEmbeddings: cfg.tie,
    outputBias: false,
  };
}

/** The gated MLP's name by its gate activation: SwiGLU (SiLU), GeGLU (GELU, Gemma's tanh GELU), GLU (sigmoid). */
function gatedKind(act: Activation): FfnKind {
  return act === 'silu' ? 'swiglu' : act === 'gelu' || act === 'gelu_tanh' ? 'geglu' : act === 'sigmoid' ? 'glu' : 'swiglu';
}

/** Weights by their Hugging Face names, with the biases, norms and windows the description resolved. */
export function buildLlamaModel(cfg: LlamaConfig, spec: ModelSpec, source?: WeightSource): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const d = spec.dModel;
  const { qkv: qkvBias, o: oBias, mlp: mlpBias } = cfg.bias;
  const normSpec = spec.norm as NormSpec & { kind: 'rmsnorm' };
  const norm = (name: string) =>
    new RMSNorm(normSpec, w.take(`${name}.weight`, [d], { kind: cfg.norm.gainOffset === 1 ? 'zeros' : 'ones' }));
  const rope =
    spec.positional.kind === 'rotary'
      ? {
          layout: spec.positional.layout,
          theta: spec.positional.theta,
          rotaryDim: Math.round(spec.headDim * spec.positional.partialFactor),
        }
      : undefined;
  const window = cfg.window.size;
  const windows = (i: number): MaskRule[] => (window !== null && cfg.window.sliding(i) ? [{ kind: 'sliding_window', window }] : []);
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
  rotaryBuffers(w, spec.numLayers, rope);
  const emb = w.take('model.embed_tokens.weight', [spec.vocabSize, d], { kind: 'embedding' });
  // Gemma multiplies by √hidden_size cast to the compute dtype (fp32 here).
  const token = new Embedding(emb, spec.scaleEmbedding ? Math.fround(Math.sqrt(d)) : 1);
  const head = causalLmHead(w, spec, emb);
  const stack = new Stack('', blocks, norm('model.norm'));
  return assemble(spec, w, source, { embed: { token }, stack, causal: true }, undefined, head);
}

/**
 * Rotary inv_freq: a buffer per layer in old checkpoints (`…self_attn.rotary_emb.inv_freq`), one
 * non-persistent `model.rotary_emb.inv_freq` today. Present, it must hold the frequencies the config
 * implies; absent, it is computed (and reported once).
 */
export function rotaryBuffers(w: WeightLoader, layers: number, rope: RopeSpec | undefined): void {
  if (!rope) return;
  const inv = ropeInvFreq(rope);
  const expected = { values: new Tensor([inv.length], inv), rtol: 1e-6, why: 'rotary inv_freq is 1/θ^(2i/d) of rope_theta and head_dim' };
  const perLayer = Array.from({ length: layers }, (_, i) => `model.layers.${i}.self_attn.rotary_emb.inv_freq`);
  if (perLayer.some((n) => w.has(n))) for (const n of perLayer) w.buffer(n, expected);
  else w.buffer('model.rotary_emb.inv_freq', expected);
}
