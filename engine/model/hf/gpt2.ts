import { ConfigReader, type JsonObject } from '../../config/json';
import { Embedding } from '../../nn/embedding';
import { Linear } from '../../nn/linear';
import { LayerNorm, type NormSpec } from '../../nn/norm';
import { MultiHeadAttention } from '../../nn/attention';
import { FeedForward } from '../../nn/ffn';
import { Block, Stack } from '../../nn/block';
import type { ModelSpec } from '../spec';
import type { TransformerModel } from '../transformer';
import { WeightLoader, type WeightSource } from '../weights';
import {
  activation,
  alias,
  detectPrefix,
  sliceRows,
  transpose2d,
  HF_SPEC_DEFAULTS,
  assemble,
} from './common';

/**
 * GPT-2 (GPT2LMHeadModel). Conv1D weights are stored [in, out] and transposed here; `c_attn` holds q, k, v
 * side by side and is split. Names are unprefixed in the official file (`h.0.attn.c_attn.weight`) and
 * `transformer.`-prefixed when saved from GPT2LMHeadModel; `attn.bias`/`attn.masked_bias` are causal-mask
 * buffers (recomputed, not parameters); `lm_head.weight` is tied to `wte` and usually absent.
 */
export function gpt2Spec(obj: JsonObject, file?: string): ModelSpec {
  const r = new ConfigReader(obj, file);
  const d = r.int(alias(obj, 'n_embd', 'hidden_size'), { max: 1_000_000 });
  const heads = r.int(alias(obj, 'n_head', 'num_attention_heads'), { max: d });
  if (d % heads !== 0)
    r.fail(
      alias(obj, 'n_head', 'num_attention_heads'),
      `n_embd (${d}) must be divisible by n_head (${heads})`,
    );
  const inner = r.has('n_inner') ? r.int('n_inner') : 4 * d;
  const norm: NormSpec = {
    kind: 'layernorm',
    eps: r.number('layer_norm_epsilon', { default: 1e-5, min: 0, exclusiveMin: true }),
    bias: true,
  };
  return {
    ...HF_SPEC_DEFAULTS,
    family: 'gpt2',
    architecture: 'decoder',
    vocabSize: r.int('vocab_size', { default: 50257 }),
    tgtVocabSize: r.int('vocab_size', { default: 50257 }),
    dModel: d,
    numHeads: heads,
    kvHeads: heads,
    headDim: d / heads,
    ffn: 'mlp',
    dFF: inner,
    numLayers: r.int(alias(obj, 'n_layer', 'num_hidden_layers'), { max: 10_000 }),
    maxLen: r.int(alias(obj, 'n_positions', 'max_position_embeddings'), { default: 1024 }),
    placement: 'pre',
    norm,
    activation: activation(r, 'activation_function', 'gelu_new'),
    positional: { kind: 'learned' },
    finalNorm: true,
    scaleEmbedding: false,
    tieEmbeddings: true,
    outputBias: false,
  };
}

export function buildGpt2(spec: ModelSpec, obj: JsonObject, source?: WeightSource): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const p = detectPrefix(source, 'wte.weight', ['', 'transformer.']);
  const d = spec.dModel;
  const r = new ConfigReader(obj);
  const byLayerIdx = r.bool('scale_attn_by_inverse_layer_idx', false);
  const ln = (name: string) => {
    const norm = spec.norm as NormSpec & { kind: 'layernorm' };
    return new LayerNorm(
      norm,
      w.take(`${p}${name}.weight`, [d], { kind: 'ones' }),
      w.take(`${p}${name}.bias`, [d], { kind: 'zeros' }),
    );
  };
  /** Conv1D [in, out] → nn.Linear [out, in]. */
  const conv1d = (name: string, inp: number, out: number) =>
    new Linear(
      transpose2d(w.take(`${p}${name}.weight`, [inp, out], { kind: 'uniform', fanIn: inp })),
      w.take(`${p}${name}.bias`, [out], { kind: 'uniform', fanIn: inp }),
    );
  const blocks: Block[] = [];
  for (let i = 0; i < spec.numLayers; i++) {
    const hp = `blocks.${i}`;
    const cAttn = conv1d(`h.${i}.attn.c_attn`, d, 3 * d); // q | k | v along the output axis
    const part = (k: number) =>
      new Linear(sliceRows(cAttn.weight, k * d, (k + 1) * d), sliceRows(cAttn.bias!, k * d, (k + 1) * d));
    // The causal mask as buffers: in old checkpoints, left out by save_pretrained today (computed either way).
    w.buffer(`${p}h.${i}.attn.bias`);
    w.ignore(`${p}h.${i}.attn.masked_bias`);
    const scale = 1 / Math.sqrt(spec.headDim) / (byLayerIdx ? i + 1 : 1);
    const attn = new MultiHeadAttention(
      `${hp}.attn`,
      spec.numHeads,
      part(0),
      part(1),
      part(2),
      conv1d(`h.${i}.attn.c_proj`, d, d),
      { scale },
    );
    const mlp = new FeedForward(
      `${hp}.mlp`,
      conv1d(`h.${i}.mlp.c_fc`, d, spec.dFF),
      conv1d(`h.${i}.mlp.c_proj`, spec.dFF, d),
      spec.activation,
    );
    blocks.push(
      new Block(
        hp,
        [
          { kind: 'attn', attn, norm: ln(`h.${i}.ln_1`) },
          { kind: 'mlp', ffn: mlp, norm: ln(`h.${i}.ln_2`) },
        ],
        'pre',
      ),
    );
  }
  const wte = w.take(`${p}wte.weight`, [spec.vocabSize, d], { kind: 'embedding' });
  const wpe = w.take(`${p}wpe.weight`, [spec.maxLen, d], { kind: 'embedding' });
  w.acknowledgeCopy('lm_head.weight', wte, 'GPT-2 ties lm_head to wte');
  const stack = new Stack('', blocks, ln('ln_f'));
  const embed = {
    token: new Embedding(wte),
    positions: { kind: 'learned' as const, embedding: new Embedding(wpe, 1, 'positions') },
  };
  return assemble(spec, w, source, { embed, stack, causal: true }, undefined, new Linear(wte));
}
