import { InspectorError } from '../errors';
import type { ModelSpec } from '../model/spec';
import { ACTIVATIONS } from '../kernels/ops';
import { ConfigReader, isObject, parseJsonText, type JsonObject } from './json';
import type { MaskRule } from '../nn/mask';

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
  'num_kv_heads',
  'ffn',
  'rope_theta',
  'rope_layout',
  'partial_rotary_factor',
  'attention',
  'num_latents',
  'attention_impl',
  'masks',
] as const;

export function parseNativeConfig(text: string, file?: string): ModelSpec {
  const json = parseJsonText(text, file);
  if (!isObject(json)) throw new InspectorError('a *.transformer.json config must be a JSON object', { file });
  return nativeSpecFromJson(json, file);
}

export function nativeSpecFromJson(obj: JsonObject, file?: string): ModelSpec {
  for (const key of Object.keys(obj)) {
    if (!(NATIVE_KEYS as readonly string[]).includes(key)) {
      // Suggestions only for keys a person could have mistyped (the distance is quadratic in length).
      const near = key.length <= 40 ? NATIVE_KEYS.find((k) => editDistance(k, key) <= 2) : undefined;
      const shown = key.length > 60 ? `${key.slice(0, 60)}… (${key.length} characters)` : key;
      throw new InspectorError(`unknown key '${shown}'${near ? ` (did you mean '${near}'?)` : ''}`, { file, key: key.length > 200 ? key.slice(0, 200) : key });
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
  const normKind = r.oneOf('norm', ['layernorm', 'layernorm_nobias', 'rmsnorm', 'scalenorm'] as const, 'layernorm');
  const eps = r.number('norm_eps', { min: 0, max: 1, default: 1e-5, exclusiveMin: true });
  const positional = r.oneOf('positional', ['sinusoidal', 'learned', 'rope', 'none'] as const, 'sinusoidal');
  const kvHeads = r.int('num_kv_heads', { default: numHeads, max: numHeads });
  if (numHeads % kvHeads !== 0) r.fail('num_kv_heads', `num_heads (${numHeads}) must be divisible by num_kv_heads (${kvHeads})`);
  const headDim = dModel / numHeads;
  if (positional !== 'rope') {
    for (const k of ['rope_theta', 'rope_layout', 'partial_rotary_factor'] as const) {
      if (r.has(k)) r.fail(k, `'${k}' applies only to "positional": "rope"`);
    }
  }
  const partial = r.number('partial_rotary_factor', { min: 0, max: 1, default: 1, exclusiveMin: true });
  const rotaryDim = Math.round(headDim * partial);
  if (positional === 'rope' && rotaryDim % 2 !== 0) {
    r.fail(positional === 'rope' && r.has('partial_rotary_factor') ? 'partial_rotary_factor' : 'd_model', `RoPE rotates pairs of dims: d_head × partial_rotary_factor = ${rotaryDim} must be even`);
  }
  const attentionKind = r.oneOf('attention', ['standard', 'latent_bottleneck'] as const, 'standard');
  if (attentionKind !== 'latent_bottleneck' && r.has('num_latents')) r.fail('num_latents', `'num_latents' applies only to "attention": "latent_bottleneck"`);
  if (attentionKind === 'latent_bottleneck' && architecture !== 'encoder') {
    r.fail('attention', 'the latent bottleneck lets every token see every other through the latents, so it is for encoders only');
  }
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
    kvHeads,
    headDim,
    attention: attentionKind === 'latent_bottleneck' ? { kind: 'latent_bottleneck', numLatents: r.int('num_latents', { max: 100_000 }) } : { kind: 'standard' },
    attentionImpl: r.oneOf('attention_impl', ['plain', 'flash'] as const, 'plain'),
    maskRules: parseMaskRules(r),
    ffn: r.oneOf('ffn', ['mlp', 'swiglu', 'geglu', 'glu'] as const, 'mlp'),
    dFF,
    numLayers,
    numDecoderLayers: isEncDec ? r.int('num_decoder_layers', { default: numLayers, max: 10_000 }) : 0,
    maxLen,
    dropout,
    placement: r.oneOf('norm_placement', ['pre', 'post'] as const, 'pre'),
    norm:
      normKind === 'rmsnorm'
        ? { kind: 'rmsnorm', eps, gainOffset: 0 }
        : normKind === 'scalenorm'
          ? { kind: 'scalenorm', eps }
          : { kind: 'layernorm', eps, bias: normKind === 'layernorm' },
    activation: r.oneOf('activation', ACTIVATIONS, 'relu'),
    positional:
      positional === 'sinusoidal'
        ? { kind: 'sinusoidal', layout: 'interleaved' }
        : positional === 'rope'
          ? {
              kind: 'rotary',
              layout: r.oneOf('rope_layout', ['half', 'interleaved', 'tutorial_neg'] as const, 'half'),
              theta: r.number('rope_theta', { min: 1, default: 10000 }),
              partialFactor: partial,
            }
          : { kind: positional },
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

/**
 * `masks`: extra self-attention rules ANDed with causal/padding, e.g.
 * `[{"kind": "sliding_window", "window": 4}, {"kind": "strided", "stride": 3}]`.
 */
function parseMaskRules(r: ConfigReader): MaskRule[] {
  const raw = r.obj.masks;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) r.fail('masks', `'masks' must be a list of mask rules`);
  return raw.map((m, i) => {
    const key = `masks[${i}]`;
    if (!isObject(m)) r.fail(key, `${key} must be an object with a "kind"`);
    const mr = new ConfigReader(m, r.file);
    const kind = m.kind;
    const at = (k: string) => {
      try {
        return mr.int(k);
      } catch (e) {
        r.fail(`${key}.${k}`, (e as Error).message);
      }
    };
    switch (kind) {
      case 'sliding_window':
        return { kind, window: at('window') };
      case 'chunked':
        return { kind, size: at('size') };
      case 'strided':
        return { kind, stride: at('stride') };
      case 'custom': {
        const allow = m.allow;
        if (!Array.isArray(allow) || !allow.every((row) => Array.isArray(row) && row.every((v) => v === 0 || v === 1))) {
          r.fail(`${key}.allow`, `'allow' must be a matrix of 0/1 (rows = queries, columns = keys)`);
        }
        return { kind, allow: allow as number[][] };
      }
      default:
        r.fail(`${key}.kind`, `unknown mask kind ${JSON.stringify(kind)} (known: "sliding_window", "chunked", "strided", "custom")`);
    }
  });
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}
