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
import { activation, detectPrefix, linear, requireDivisible, HF_SPEC_DEFAULTS, assemble } from './common';

/**
 * BERT as BertForMaskedLM: post-norm encoder (LayerNorm(x + sublayer(x)), eps 1e-12), word + position +
 * token-type embeddings followed by a LayerNorm, exact GELU, and the MLM head (dense → GELU → LayerNorm →
 * decoder tied to the word embeddings, plus a bias). A pooler in the file is reported as unused: the
 * masked-LM head does not use it. Names carry `bert.` in task models and none in a bare BertModel.
 */
export function bertSpec(obj: JsonObject, file?: string): ModelSpec {
  const r = new ConfigReader(obj, file);
  const d = r.int('hidden_size', { max: 1_000_000 });
  const heads = r.int('num_attention_heads', { max: d });
  requireDivisible(r, 'num_attention_heads', d, 'hidden_size', heads);
  if (r.string('position_embedding_type', 'absolute') !== 'absolute')
    r.fail('position_embedding_type', 'only absolute position embeddings are supported');
  return {
    ...HF_SPEC_DEFAULTS,
    family: 'bert',
    architecture: 'encoder',
    vocabSize: r.int('vocab_size', { max: 10_000_000 }),
    tgtVocabSize: r.int('vocab_size', { max: 10_000_000 }),
    dModel: d,
    numHeads: heads,
    kvHeads: heads,
    headDim: d / heads,
    ffn: 'mlp',
    dFF: r.int('intermediate_size', { max: 10_000_000 }),
    numLayers: r.int('num_hidden_layers', { max: 10_000 }),
    maxLen: r.int('max_position_embeddings', { default: 512 }),
    placement: 'post',
    norm: {
      kind: 'layernorm',
      eps: r.number('layer_norm_eps', { default: 1e-12, min: 0, exclusiveMin: true }),
      bias: true,
    },
    activation: activation(r, 'hidden_act', 'gelu'),
    positional: { kind: 'learned' },
    finalNorm: false,
    scaleEmbedding: false,
    tieEmbeddings: true,
    outputBias: true,
  };
}

export function buildBert(spec: ModelSpec, obj: JsonObject, source?: WeightSource): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const p = detectPrefix(source, 'embeddings.word_embeddings.weight', ['bert.', '']);
  const d = spec.dModel;
  const typeVocab = new ConfigReader(obj).int('type_vocab_size', { default: 2 });
  const normSpec = spec.norm as NormSpec & { kind: 'layernorm' };
  const ln = (name: string) =>
    new LayerNorm(
      normSpec,
      w.take(`${name}.weight`, [d], { kind: 'ones' }),
      w.take(`${name}.bias`, [d], { kind: 'zeros' }),
    );
  const blocks: Block[] = [];
  for (let i = 0; i < spec.numLayers; i++) {
    const wp = `${p}encoder.layer.${i}`;
    const hp = `blocks.${i}`;
    const attn = new MultiHeadAttention(
      `${hp}.attn`,
      spec.numHeads,
      linear(w, `${wp}.attention.self.query`, d, d, true),
      linear(w, `${wp}.attention.self.key`, d, d, true),
      linear(w, `${wp}.attention.self.value`, d, d, true),
      linear(w, `${wp}.attention.output.dense`, d, d, true),
    );
    const mlp = new FeedForward(
      `${hp}.mlp`,
      linear(w, `${wp}.intermediate.dense`, spec.dFF, d, true),
      linear(w, `${wp}.output.dense`, d, spec.dFF, true),
      spec.activation,
    );
    blocks.push(
      new Block(
        hp,
        [
          { kind: 'attn', attn, norm: ln(`${wp}.attention.output.LayerNorm`) },
          { kind: 'mlp', ffn: mlp, norm: ln(`${wp}.output.LayerNorm`) },
        ],
        'post',
      ),
    );
  }
  const words = w.take(`${p}embeddings.word_embeddings.weight`, [spec.vocabSize, d], { kind: 'embedding' });
  const embed = {
    token: new Embedding(words),
    positions: {
      kind: 'learned' as const,
      embedding: new Embedding(
        w.take(`${p}embeddings.position_embeddings.weight`, [spec.maxLen, d], { kind: 'embedding' }),
        1,
        'positions',
      ),
    },
    tokenTypes: new Embedding(
      w.take(`${p}embeddings.token_type_embeddings.weight`, [typeVocab, d], { kind: 'embedding' }),
      1,
      'token type ids',
    ),
    norm: ln(`${p}embeddings.LayerNorm`),
  };
  w.buffer(`${p}embeddings.position_ids`);
  const bias = w.take('cls.predictions.bias', [spec.vocabSize], { kind: 'zeros' });
  w.acknowledgeCopy(
    'cls.predictions.decoder.weight',
    words,
    'the MLM decoder is tied to the word embeddings',
  );
  w.acknowledgeCopy('cls.predictions.decoder.bias', bias, 'the MLM decoder bias is cls.predictions.bias');
  const transform = {
    dense: linear(w, 'cls.predictions.transform.dense', d, d, true),
    act: spec.activation,
    norm: ln('cls.predictions.transform.LayerNorm'),
  };
  const stack = new Stack('', blocks);
  return assemble(spec, w, source, { embed, stack, causal: false }, undefined, new Linear(words, bias), {
    transform,
  });
}
