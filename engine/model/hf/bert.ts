import { InspectorError } from '../../errors';
import type { BertConfig } from '../../config/hf/bert';
import { Embedding } from '../../nn/embedding';
import { Linear } from '../../nn/linear';
import { LayerNorm, type NormSpec } from '../../nn/norm';
import { MultiHeadAttention } from '../../nn/attention';
import { FeedForward } from '../../nn/ffn';
import { Block, Stack } from '../../nn/block';
import type { ModelSpec } from '../spec';
import type { TransformerModel } from '../transformer';
import { WeightLoader, type WeightSource } from '../weights';
import { detectPrefix, linear, HF_ACTIVATIONS, HF_SPEC_DEFAULTS, assemble } from './common';

/**
 * BERT as BertForMaskedLM: post-norm encoder (LayerNorm(x + sublayer(x)), eps 1e-12), word + position +
 * token-type embeddings followed by a LayerNorm, exact GELU, and the MLM head (dense → GELU → LayerNorm →
 * decoder tied to the word embeddings, plus a bias). A pooler in the file is reported as unused: the
 * masked-LM head does not use it. Names carry `bert.` in task models and none in a bare BertModel.
 */
/** The BERT classes the engine builds: the masked-LM head and nothing else (no pooler, no NSP head). */
export const RUN_CLASSES: readonly string[] = ['BertForMaskedLM', 'BertLMHeadModel'];

/** The run spec of a resolved BERT config; refuses what the engine does not run, naming the key. */
export function bertRunSpec(b: BertConfig): ModelSpec {
  const fail = (key: string, message: string): never => {
    throw new InspectorError(message, { file: b.file, key });
  };
  // The engine runs BERT with its masked-LM head (it needs logits). transformers builds the class that
  // `architectures` names (AutoModel: BertModel, with a pooler and no head), and the analysis counts that
  // class; a model the engine would build differently is refused here, so the two never disagree.
  if (!RUN_CLASSES.includes(b.modelClass))
    fail('architectures', `${b.modelClass} has ${b.head === 'none' ? 'no output head' : `a ${b.head} head`}, and the engine runs BERT only with its masked-LM head (${RUN_CLASSES.join(', ')}): this config is analysed as transformers builds ${b.modelClass}, not run`);
  if (b.positionType !== 'absolute') fail('position_embedding_type', 'only absolute position embeddings are supported');
  if (b.typeVocab === 0) fail('type_vocab_size', 'BERT without token type embeddings (type_vocab_size 0) is analysed, not run');
  const act = b.activation.fn ?? fail('hidden_act', `activation "${b.activation.name}" is not supported (known: ${Object.keys(HF_ACTIVATIONS).join(', ')})`);
  return {
    ...HF_SPEC_DEFAULTS,
    family: 'bert',
    architecture: 'encoder',
    vocabSize: b.vocab,
    tgtVocabSize: b.vocab,
    dModel: b.hidden,
    numHeads: b.heads,
    kvHeads: b.heads,
    headDim: b.headDim,
    ffn: 'mlp',
    dFF: b.ff,
    numLayers: b.layers,
    maxLen: b.maxPos,
    placement: 'post',
    norm: { kind: 'layernorm', eps: b.eps, bias: true },
    activation: act,
    positional: { kind: 'learned' },
    finalNorm: false,
    scaleEmbedding: false,
    tieEmbeddings: true,
    outputBias: true,
  };
}

/** Weights by BERT's names (`bert.`-prefixed in task models), as the description resolved them. */
export function buildBertModel(b: BertConfig, spec: ModelSpec, source?: WeightSource): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const p = detectPrefix(source, 'embeddings.word_embeddings.weight', ['bert.', '']);
  const d = spec.dModel;
  const typeVocab = b.typeVocab;
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
