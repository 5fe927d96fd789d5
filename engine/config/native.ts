import { InspectorError } from '../errors';
import type { ModelSpec } from '../model/spec';
import { ACTIVATIONS } from '../kernels/ops';
import { ConfigReader, isObject, parseJsonText, type JsonObject } from './json';

/**
 * The native config, `NAME.transformer.json`. A file holding only the tutorial constructor's arguments
 * (vocab_size, d_model, num_heads, d_ff, num_layers, max_len, dropout) builds the tutorial's encoder:
 * pre-norm, ReLU FFN, sinusoidal positions, final LayerNorm, output projection to the vocabulary.
 * Every other key is optional; docs/config.md and schemas/transformer.schema.json describe them.
 */
export const NATIVE_KEYS = [
  '$schema',
  'name',
  'description',
  'vocab_size',
  'd_model',
  'num_heads',
  'd_ff',
  'num_layers',
  'max_len',
  'dropout',
  'architecture',
  'num_decoder_layers',
  'tgt_vocab_size',
  'norm_placement',
  'norm',
  'norm_eps',
  'activation',
  'positional',
  'final_norm',
  'scale_embedding',
  'pad_token_id',
  'tie_embeddings',
  'share_embeddings',
  'output_bias',
  'shared_layers',
  'seed',
] as const;

export function parseNativeConfig(text: string, file?: string): ModelSpec {
  const json = parseJsonText(text, file);
  if (!isObject(json)) throw new InspectorError('a *.transformer.json config must be a JSON object', { file });
  return nativeSpecFromJson(json, file);
}

export function nativeSpecFromJson(obj: JsonObject, file?: string): ModelSpec {
  for (const key of Object.keys(obj)) {
    if (!(NATIVE_KEYS as readonly string[]).includes(key)) {
      const near = NATIVE_KEYS.find((k) => editDistance(k, key) <= 2);
      throw new InspectorError(`unknown key '${key}'${near ? ` (did you mean '${near}'?)` : ''}`, { file, key });
    }
  }
  const r = new ConfigReader(obj, file);
  const architecture = r.oneOf('architecture', ['encoder', 'decoder', 'encoder-decoder'] as const, 'encoder');
  const vocabSize = r.int('vocab_size', { max: 10_000_000 });
  const dModel = r.int('d_model', { max: 1_000_000 });
  const numHeads = r.int('num_heads', { max: dModel });
  if (dModel % numHeads !== 0) {
    r.fail('num_heads', `d_model (${dModel}) must be divisible by num_heads (${numHeads})`);
  }
  const dFF = r.int('d_ff', { max: 10_000_000 });
  const numLayers = r.int('num_layers', { max: 10_000 });
  const maxLen = r.int('max_len', { max: 10_000_000 });
  const dropout = r.number('dropout', { min: 0, max: 1, default: 0 });
  if (dropout === 1) r.fail('dropout', `'dropout' must be < 1`);
  const normKind = r.oneOf('norm', ['layernorm', 'layernorm_nobias'] as const, 'layernorm');
  const eps = r.number('norm_eps', { min: 0, max: 1, default: 1e-5, exclusiveMin: true });
  const positional = r.oneOf('positional', ['sinusoidal', 'learned', 'none'] as const, 'sinusoidal');
  const padTokenId = r.has('pad_token_id') ? r.int('pad_token_id', { min: 0 }) : null;
  if (padTokenId !== null && padTokenId >= vocabSize) {
    r.fail('pad_token_id', `'pad_token_id' (${padTokenId}) must be < vocab_size (${vocabSize})`);
  }
  const isEncDec = architecture === 'encoder-decoder';
  if (!isEncDec) {
    for (const k of ['num_decoder_layers', 'tgt_vocab_size', 'share_embeddings'] as const) {
      if (r.has(k)) r.fail(k, `'${k}' applies only to "architecture": "encoder-decoder"`);
    }
  }
  const tgtVocabSize = isEncDec ? r.int('tgt_vocab_size', { default: vocabSize, max: 10_000_000 }) : vocabSize;
  const shareEmbeddings = isEncDec ? r.bool('share_embeddings', false) : false;
  if (shareEmbeddings && tgtVocabSize !== vocabSize) {
    r.fail('share_embeddings', `sharing embeddings needs tgt_vocab_size (${tgtVocabSize}) = vocab_size (${vocabSize})`);
  }
  return {
    family: 'native',
    architecture,
    vocabSize,
    tgtVocabSize,
    dModel,
    numHeads,
    headDim: dModel / numHeads,
    dFF,
    numLayers,
    numDecoderLayers: isEncDec ? r.int('num_decoder_layers', { default: numLayers, max: 10_000 }) : 0,
    maxLen,
    dropout,
    placement: r.oneOf('norm_placement', ['pre', 'post'] as const, 'pre'),
    norm: { kind: 'layernorm', eps, bias: normKind === 'layernorm' },
    activation: r.oneOf('activation', ACTIVATIONS, 'relu'),
    positional: positional === 'sinusoidal' ? { kind: 'sinusoidal', layout: 'interleaved' } : { kind: positional },
    finalNorm: r.bool('final_norm', true),
    scaleEmbedding: r.bool('scale_embedding', false),
    padTokenId,
    tieEmbeddings: r.bool('tie_embeddings', false),
    shareEmbeddings,
    outputBias: r.bool('output_bias', true),
    sharedLayers: r.bool('shared_layers', false),
    seed: r.int('seed', { min: 0, default: 0 }),
  };
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}
