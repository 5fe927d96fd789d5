import { mod, norm, partitionLayers } from '../tree';
import type { ArchDesc, ModuleDef, TensorDef } from '../types';
import { decoderHead, headGeometry, type HfConfig } from './hf';
import {
  decoderLM,
  gatedMlp,
  moeBlock,
  router,
  selfAttention,
  type LayerGroup,
  type MlpStyle,
} from './decoder';

/**
 * The Llama-shaped decoder families: llama, mistral, qwen2, gemma, gemma2, phi3, mixtral, qwen2_moe.
 * Defaults are those of each family's `*Config` class in transformers.
 */

interface Defaults {
  prefix: string;
  vocab: number;
  hidden: number;
  ff: number;
  layers: number;
  heads: number;
  /** null: = heads. */
  kvHeads: number | null;
  headDim?: number;
  maxPos: number;
  tie: boolean;
  /** Default sliding window when the key is absent (null: none). */
  window?: number | null;
}

const DEFAULTS: Record<string, Defaults> = {
  llama: {
    prefix: 'Llama',
    vocab: 32000,
    hidden: 4096,
    ff: 11008,
    layers: 32,
    heads: 32,
    kvHeads: null,
    maxPos: 2048,
    tie: false,
  },
  mistral: {
    prefix: 'Mistral',
    vocab: 32000,
    hidden: 4096,
    ff: 14336,
    layers: 32,
    heads: 32,
    kvHeads: 8,
    maxPos: 131072,
    tie: false,
    window: 4096,
  },
  qwen2: {
    prefix: 'Qwen2',
    vocab: 151936,
    hidden: 4096,
    ff: 22016,
    layers: 32,
    heads: 32,
    kvHeads: 32,
    maxPos: 32768,
    tie: false,
    window: 4096,
  },
  gemma: {
    prefix: 'Gemma',
    vocab: 256000,
    hidden: 3072,
    ff: 24576,
    layers: 28,
    heads: 16,
    kvHeads: 16,
    headDim: 256,
    maxPos: 8192,
    tie: true,
  },
  gemma2: {
    prefix: 'Gemma2',
    vocab: 256000,
    hidden: 2304,
    ff: 9216,
    layers: 26,
    heads: 8,
    kvHeads: 4,
    headDim: 256,
    maxPos: 8192,
    tie: true,
    window: 4096,
  },
  phi3: {
    prefix: 'Phi3',
    vocab: 32064,
    hidden: 3072,
    ff: 8192,
    layers: 32,
    heads: 32,
    kvHeads: null,
    maxPos: 4096,
    tie: false,
    window: null,
  },
  mixtral: {
    prefix: 'Mixtral',
    vocab: 32000,
    hidden: 4096,
    ff: 14336,
    layers: 32,
    heads: 32,
    kvHeads: 8,
    maxPos: 131072,
    tie: false,
    window: null,
  },
  qwen2_moe: {
    prefix: 'Qwen2Moe',
    vocab: 151936,
    hidden: 2048,
    ff: 5632,
    layers: 24,
    heads: 16,
    kvHeads: 16,
    maxPos: 32768,
    tie: false,
    window: 4096,
  },
};

export const LLAMA_FAMILIES = Object.keys(DEFAULTS);

/** Largest period of a per-layer pattern (decoder_sparse_step) the analysis accepts. */
const MAX_PERIOD = 4096;

export function llamaFamily(c: HfConfig, family: string): ArchDesc {
  const d = DEFAULTS[family];
  const notes: string[] = [];
  const vocab = c.int('vocab_size', d.vocab);
  const hidden = c.int('hidden_size', d.hidden);
  const ff = c.int('intermediate_size', d.ff);
  const L = c.int('num_hidden_layers', d.layers);
  const heads = c.int('num_attention_heads', d.heads);
  const kvHeads = c.int('num_key_value_heads', d.kvHeads ?? heads);
  const headDim = headGeometry(c, {
    hidden,
    heads,
    kvHeads,
    headsKey: 'num_attention_heads',
    kvKey: 'num_key_value_heads',
    headDimKey: 'head_dim',
    headDimDefault: d.headDim,
  });
  const tie = c.bool('tie_word_embeddings', d.tie);
  const { cls, head, note } = decoderHead(c.architecture(), d.prefix);
  if (note) notes.push(note);

  // Biases: Llama's attention_bias covers q, k, v and o; Qwen2 always has q/k/v biases and no o bias.
  const isQwen = family === 'qwen2' || family === 'qwen2_moe';
  const attnBias =
    family === 'llama' || family === 'gemma' || family === 'gemma2' ? c.bool('attention_bias', false) : false;
  const qkvBias = isQwen ? true : attnBias;
  const oBias = attnBias;
  const mlpBias = family === 'llama' ? c.bool('mlp_bias', false) : false;

  // Which layers use a sliding window.
  const layerTypes = c.strList('layer_types');
  if (layerTypes) {
    if (layerTypes.length !== L)
      c.fail('layer_types', `'layer_types' has ${layerTypes.length} entries but there are ${L} layers`);
    layerTypes.forEach((t, k) => {
      if (t !== 'sliding_attention' && t !== 'full_attention') {
        c.fail(
          `layer_types[${k}]`,
          `'layer_types' entries must be "sliding_attention" or "full_attention", got "${t}"`,
        );
      }
    });
  }
  let windowSize: number | null = null;
  let sliding: (i: number) => boolean = () => false;
  let breakpoints: number[] = [];
  let period = 1;
  if (family === 'mistral' || family === 'mixtral' || family === 'phi3') {
    windowSize = c.has('sliding_window')
      ? c.int('sliding_window', 1)
      : c.obj.sliding_window === null
        ? null
        : (d.window ?? null);
    sliding = () => windowSize !== null;
  } else if (family === 'gemma2') {
    windowSize = c.int('sliding_window', d.window ?? 4096);
    sliding = layerTypes ? (i) => layerTypes[i] === 'sliding_attention' : (i) => i % 2 === 0;
    period = layerTypes ? 1 : 2;
  } else if (isQwen) {
    const use = c.bool('use_sliding_window', false);
    const w = c.has('sliding_window')
      ? c.int('sliding_window', 1)
      : c.obj.sliding_window === null
        ? null
        : (d.window ?? null);
    windowSize = use ? w : null;
    const mwl = c.int('max_window_layers', 28, 0);
    sliding = layerTypes
      ? (i) => windowSize !== null && layerTypes[i] === 'sliding_attention'
      : (i) => windowSize !== null && i >= mwl;
    breakpoints.push(mwl);
  }
  if (layerTypes) breakpoints = breakpoints.concat(runBoundaries(layerTypes));

  // Which layers are MoE (qwen2_moe: decoder_sparse_step and mlp_only_layers; mixtral: all).
  let isMoe: (i: number) => boolean = () => family === 'mixtral';
  let moe: ((hidden: number) => ModuleDef) | null = null;
  if (family === 'mixtral') {
    const E = c.int('num_local_experts', 8);
    const k = topK(c, 'num_experts_per_tok', 2, E, 'num_local_experts');
    moe = (h) =>
      moeBlock({
        name: 'block_sparse_moe',
        hidden: h,
        experts: E,
        topK: k,
        expertFF: ff,
        style: 'mixtral',
        router: router(h, E),
      });
  } else if (family === 'qwen2_moe') {
    const E = c.int('num_experts', 60, 0);
    const step = c.int('decoder_sparse_step', 1);
    if (step > MAX_PERIOD)
      c.fail('decoder_sparse_step', `'decoder_sparse_step' must be ≤ ${MAX_PERIOD}, got ${step}`);
    const mlpOnly = new Set(c.intList('mlp_only_layers'));
    if (E > 0) {
      const k = topK(c, 'num_experts_per_tok', 4, E, 'num_experts');
      const expertFF = c.int('moe_intermediate_size', 1408);
      const sharedFF = c.int('shared_expert_intermediate_size', 5632);
      moe = (h) =>
        moeBlock({
          name: 'mlp',
          hidden: h,
          experts: E,
          topK: k,
          expertFF,
          style: 'llama',
          router: router(h, E),
          shared: { name: 'shared_expert', ff: sharedFF, gate: true },
        });
      isMoe = (i) => !mlpOnly.has(i) && (i + 1) % step === 0;
      period = lcm(period, step);
      for (const i of mlpOnly) breakpoints.push(i, i + 1);
    }
  }

  const style: MlpStyle = family === 'phi3' ? 'phi3' : 'llama';
  const norms: TensorDef[] =
    family === 'gemma2'
      ? [
          'input_layernorm',
          'post_attention_layernorm',
          'pre_feedforward_layernorm',
          'post_feedforward_layernorm',
        ].flatMap((n) => norm(n, hidden, false))
      : [...norm('input_layernorm', hidden, false), ...norm('post_attention_layernorm', hidden, false)];

  if ((breakpoints.length + 1) * period > 1_000_000) {
    c.fail(
      'mlp_only_layers',
      `the per-layer pattern is too irregular to analyse (${breakpoints.length} exceptions × period ${period})`,
    );
  }
  const parts = partitionLayers(
    L,
    breakpoints,
    period,
    (i) => `${sliding(i) ? 'sliding' : 'full'}|${isMoe(i) ? 'moe' : 'dense'}`,
  );
  const groups: LayerGroup[] = [];
  const slidingKinds = new Set([...parts.keys()].map((k) => k.split('|')[0]));
  const moeKinds = new Set([...parts.keys()].map((k) => k.split('|')[1]));
  for (const [key, indices] of parts) {
    const [sw, mlpKind] = key.split('|');
    const window = sw === 'sliding' ? windowSize : null;
    const attn = selfAttention({
      hidden,
      heads,
      kvHeads,
      headDim,
      qkvBias,
      oBias,
      window,
      fusedQkv: family === 'phi3',
    });
    const mlp =
      mlpKind === 'moe' && moe
        ? moe(hidden)
        : mod('mlp', { category: 'mlp', tensors: gatedMlp(hidden, ff, mlpBias, style) });
    const what = [
      slidingKinds.size > 1 || window !== null
        ? window !== null
          ? `sliding window ${window}`
          : 'global attention'
        : '',
      moeKinds.size > 1 ? (mlpKind === 'moe' ? 'MoE' : 'dense MLP') : '',
    ]
      .filter(Boolean)
      .join(', ');
    groups.push({ indices, what: what || undefined, children: [attn, mlp], tensors: norms });
  }
  if (family === 'gemma' || family === 'gemma2')
    notes.push('Gemma RMSNorm stores g − 1 and scales by (1 + g); still one weight per channel');

  return decoderLM({
    family,
    modelClass: cls,
    baseClass: `${d.prefix}Model`,
    head,
    hidden,
    vocab,
    maxContext: c.int('max_position_embeddings', d.maxPos),
    groups,
    tie,
    numLabels: c.numLabels(),
    notes,
    quantization: c.quantization(),
    storedDtype: c.storedDtype(),
  });
}

export function topK(c: HfConfig, key: string, def: number, experts: number, expertsKey: string): number {
  const k = c.int(key, def);
  if (k > experts) c.fail(key, `'${key}' (${k}) must be ≤ ${expertsKey} (${experts})`);
  return k;
}

function runBoundaries(types: string[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < types.length; i++) if (types[i] !== types[i - 1]) out.push(i);
  return out;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
