import { InspectorError } from '../../errors';
import type { Gpt2Config } from '../../config/hf/gpt2';
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
  causalLmHead,
  HF_ACTIVATIONS,
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
/** The run spec of a resolved GPT-2 config; refuses what the engine does not run, naming the key. */
export function gpt2RunSpec(g: Gpt2Config): ModelSpec {
  const fail = (key: string, message: string): never => {
    throw new InspectorError(message, { file: g.file, key });
  };
  if (g.cross) fail('add_cross_attention', 'GPT-2 with cross-attention (a decoder for an encoder) is analysed, not run');
  const act = g.activation.fn ?? fail('activation_function', `activation "${g.activation.name}" is not supported (known: ${Object.keys(HF_ACTIVATIONS).join(', ')})`);
  return {
    ...HF_SPEC_DEFAULTS,
    family: 'gpt2',
    architecture: 'decoder',
    vocabSize: g.vocab,
    tgtVocabSize: g.vocab,
    dModel: g.hidden,
    numHeads: g.heads,
    kvHeads: g.heads,
    headDim: g.headDim,
    ffn: 'mlp',
    dFF: g.inner,
    numLayers: g.layers,
    maxLen: g.maxPos,
    placement: 'pre',
    norm: { kind: 'layernorm', eps: g.eps, bias: true },
    activation: act,
    positional: { kind: 'learned' },
    finalNorm: true,
    scaleEmbedding: false,
    tieEmbeddings: g.tie,
    outputBias: false,
  };
}

/** Weights by their GPT-2 names (unprefixed, or `transformer.`), as the description resolved them. */
export function buildGpt2Model(g: Gpt2Config, spec: ModelSpec, source?: WeightSource): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const p = detectPrefix(source, 'wte.weight', ['', 'transformer.']);
  const d = spec.dModel;
  const byLayerIdx = g.scaleByLayerIdx;
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
  const head = causalLmHead(w, spec, wte);
  const stack = new Stack('', blocks, ln('ln_f'));
  const embed = {
    token: new Embedding(wte),
    positions: { kind: 'learned' as const, embedding: new Embedding(wpe, 1, 'positions') },
  };
  return assemble(spec, w, source, { embed, stack, causal: true }, undefined, head);
}
