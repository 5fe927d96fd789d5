import type { Activation } from '../../kernels/ops';
import type { QuantizationInfo } from '../../analysis/types';
import { decoderHead, headGeometry, type CausalLmConfig, type HfConfig } from './reader';
import { hfActivation } from './activation';
import { readRope, type RopeSettings } from './rope';

/**
 * The Llama-shaped decoder families (llama, mistral, qwen2, gemma, gemma2, phi3, mixtral, qwen2_moe),
 * read once from a config.json into one resolved description: every default is the default of the
 * family's `*Config` class in transformers (this is the only table of them), and every family
 * difference is a field here. The analysis (engine/analysis/families/llama.ts) and the runtime
 * builder (engine/model/hf/llama.ts) both derive from it and never read the JSON.
 */
export const LLAMA_FAMILIES = ['llama', 'mistral', 'qwen2', 'gemma', 'gemma2', 'phi3', 'mixtral', 'qwen2_moe'] as const;
export type LlamaFamily = (typeof LLAMA_FAMILIES)[number];

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
  act: string;
}

const DEFAULTS: Record<LlamaFamily, Defaults> = {
  llama: { prefix: 'Llama', vocab: 32000, hidden: 4096, ff: 11008, layers: 32, heads: 32, kvHeads: null, maxPos: 2048, tie: false, act: 'silu' },
  mistral: { prefix: 'Mistral', vocab: 32000, hidden: 4096, ff: 14336, layers: 32, heads: 32, kvHeads: 8, maxPos: 131072, tie: false, window: 4096, act: 'silu' },
  qwen2: { prefix: 'Qwen2', vocab: 151936, hidden: 4096, ff: 22016, layers: 32, heads: 32, kvHeads: 32, maxPos: 32768, tie: false, window: 4096, act: 'silu' },
  gemma: { prefix: 'Gemma', vocab: 256000, hidden: 3072, ff: 24576, layers: 28, heads: 16, kvHeads: 16, headDim: 256, maxPos: 8192, tie: true, act: 'gelu_pytorch_tanh' },
  gemma2: { prefix: 'Gemma2', vocab: 256000, hidden: 2304, ff: 9216, layers: 26, heads: 8, kvHeads: 4, headDim: 256, maxPos: 8192, tie: true, window: 4096, act: 'gelu_pytorch_tanh' },
  phi3: { prefix: 'Phi3', vocab: 32064, hidden: 3072, ff: 8192, layers: 32, heads: 32, kvHeads: null, maxPos: 4096, tie: false, window: null, act: 'silu' },
  mixtral: { prefix: 'Mixtral', vocab: 32000, hidden: 4096, ff: 14336, layers: 32, heads: 32, kvHeads: 8, maxPos: 131072, tie: false, window: null, act: 'silu' },
  qwen2_moe: { prefix: 'Qwen2Moe', vocab: 151936, hidden: 2048, ff: 5632, layers: 24, heads: 16, kvHeads: 16, maxPos: 32768, tie: false, window: 4096, act: 'silu' },
};

/** Largest period of a per-layer pattern (decoder_sparse_step) the analysis accepts. */
const MAX_PERIOD = 4096;

export type LlamaMoe =
  | { kind: 'mixtral'; experts: number; topK: number; expertFF: number }
  | { kind: 'qwen2_moe'; experts: number; topK: number; expertFF: number; sharedFF: number; sparseStep: number; mlpOnly: ReadonlySet<number> };

export interface LlamaConfig extends CausalLmConfig<LlamaFamily> {
  readonly kvHeads: number;
  readonly headDim: number;
  /** Which projections have biases: Llama reads attention_bias (q/k/v/o) and mlp_bias; Gemma attention_bias only; Qwen2 always q/k/v, never o or MLP; Mistral none. */
  readonly bias: { readonly qkv: boolean; readonly o: boolean; readonly mlp: boolean };
  /** Phi-3 stores q, k, v in one `qkv_proj` and gate, up in one `gate_up_proj`. */
  readonly fused: boolean;
  readonly norm: {
    readonly eps: number;
    /** Gemma's RMSNorm scales by (1 + g). */
    readonly gainOffset: 0 | 1;
    /** Gemma-2's four norms per layer (pre/post attention, pre/post feed-forward). */
    readonly sandwich: boolean;
  };
  readonly activation: { readonly name: string; readonly fn: Activation | null };
  /** rope_theta/partial_rotary_factor/rope_scaling (transformers 4) or rope_parameters (5), read once. */
  readonly rope: RopeSettings;
  /** Gemma multiplies the token embeddings by √hidden_size. */
  readonly scaleEmbedding: boolean;
  /** Sliding-window attention: the window, and which layers use it (breakpoints/period describe the pattern for the analysis). */
  readonly window: { readonly size: number | null; readonly sliding: (layer: number) => boolean; readonly breakpoints: readonly number[]; readonly period: number };
  readonly moe: LlamaMoe | null;
  /** Whether layer `i` is a MoE layer. */
  readonly isMoeLayer: (layer: number) => boolean;
  readonly quantization: QuantizationInfo | null;
  readonly storedDtype: string | null;
  readonly notes: readonly string[];
}

export function resolveLlama(c: HfConfig, family: LlamaFamily): LlamaConfig {
  const d = DEFAULTS[family];
  const notes: string[] = [];
  const hidden = c.int('hidden_size', d.hidden);
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
  const L = c.int('num_hidden_layers', d.layers);
  const { cls, head, note } = decoderHead(c.architecture(), d.prefix);
  if (note) notes.push(note);

  const isQwen = family === 'qwen2' || family === 'qwen2_moe';
  const attnBias = family === 'llama' || family === 'gemma' || family === 'gemma2' ? c.bool('attention_bias', false) : false;
  const isGemma = family === 'gemma' || family === 'gemma2';
  if (isGemma) notes.push('Gemma RMSNorm stores g − 1 and scales by (1 + g); still one weight per channel');

  const actKey = family === 'gemma2' || (family === 'gemma' && c.has('hidden_activation')) ? 'hidden_activation' : 'hidden_act';
  // GemmaConfig's hidden_act "gelu" is run as the tanh approximation (transformers warns and does so).
  const actName = family === 'gemma' && actKey === 'hidden_act' && c.str('hidden_act', 'gelu') === 'gelu' ? 'gelu_pytorch_tanh' : c.str(actKey, d.act);

  const moe = readMoe(c, family);
  return {
    family,
    ...(c.file ? { file: c.file } : {}),
    prefix: d.prefix,
    modelClass: cls,
    head,
    numLabels: c.numLabels(),
    vocab: c.int('vocab_size', d.vocab),
    hidden,
    ff: c.int('intermediate_size', d.ff),
    layers: L,
    heads,
    kvHeads,
    headDim,
    maxPos: c.int('max_position_embeddings', d.maxPos),
    tie: c.bool('tie_word_embeddings', d.tie),
    bias: { qkv: isQwen || attnBias, o: attnBias, mlp: family === 'llama' ? c.bool('mlp_bias', false) : false },
    fused: family === 'phi3',
    norm: { eps: c.r.number('rms_norm_eps', { default: 1e-6, min: 0, exclusiveMin: true }), gainOffset: isGemma ? 1 : 0, sandwich: family === 'gemma2' },
    activation: { name: actName, fn: hfActivation(actName) },
    rope: readRope(c, { theta: 10000, partialFactor: 1 }),
    scaleEmbedding: isGemma,
    window: readWindow(c, family, L, d),
    moe: moe?.moe ?? null,
    isMoeLayer: moe?.isMoe ?? (() => false),
    quantization: c.quantization(),
    storedDtype: c.storedDtype(),
    notes,
  };
}

function readWindow(c: HfConfig, family: LlamaFamily, L: number, d: Defaults): LlamaConfig['window'] {
  const layerTypes = c.strList('layer_types');
  if (layerTypes) {
    if (layerTypes.length !== L) c.fail('layer_types', `'layer_types' has ${layerTypes.length} entries but there are ${L} layers`);
    layerTypes.forEach((t, k) => {
      if (t !== 'sliding_attention' && t !== 'full_attention') {
        c.fail(`layer_types[${k}]`, `'layer_types' entries must be "sliding_attention" or "full_attention", got "${t}"`);
      }
    });
  }
  const keyOrDefault = (): number | null => (c.has('sliding_window') ? c.int('sliding_window', 1) : c.obj.sliding_window === null ? null : (d.window ?? null));
  let size: number | null = null;
  let sliding: (i: number) => boolean = () => false;
  let breakpoints: number[] = [];
  let period = 1;
  if (family === 'mistral' || family === 'mixtral' || family === 'phi3') {
    size = keyOrDefault();
    sliding = () => size !== null;
  } else if (family === 'gemma2') {
    size = c.int('sliding_window', d.window ?? 4096);
    sliding = layerTypes ? (i) => layerTypes[i] === 'sliding_attention' : (i) => i % 2 === 0;
    period = layerTypes ? 1 : 2;
  } else if (family === 'qwen2' || family === 'qwen2_moe') {
    const use = c.bool('use_sliding_window', false);
    const w = keyOrDefault();
    size = use ? w : null;
    const mwl = c.int('max_window_layers', 28, 0);
    sliding = layerTypes ? (i) => size !== null && layerTypes[i] === 'sliding_attention' : (i) => size !== null && i >= mwl;
    breakpoints.push(mwl);
  }
  if (layerTypes) breakpoints = breakpoints.concat(runBoundaries(layerTypes));
  return { size, sliding, breakpoints, period };
}

function readMoe(c: HfConfig, family: LlamaFamily): { moe: LlamaMoe; isMoe: (i: number) => boolean } | null {
  if (family === 'mixtral') {
    const experts = c.int('num_local_experts', 8);
    const topK = readTopK(c, 'num_experts_per_tok', 2, experts, 'num_local_experts');
    return { moe: { kind: 'mixtral', experts, topK, expertFF: c.int('intermediate_size', DEFAULTS.mixtral.ff) }, isMoe: () => true };
  }
  if (family !== 'qwen2_moe') return null;
  const experts = c.int('num_experts', 60, 0);
  const sparseStep = c.int('decoder_sparse_step', 1);
  if (sparseStep > MAX_PERIOD) c.fail('decoder_sparse_step', `'decoder_sparse_step' must be ≤ ${MAX_PERIOD}, got ${sparseStep}`);
  const mlpOnly = new Set(c.intList('mlp_only_layers'));
  if (experts === 0) return null;
  const topK = readTopK(c, 'num_experts_per_tok', 4, experts, 'num_experts');
  const moe: LlamaMoe = {
    kind: 'qwen2_moe',
    experts,
    topK,
    expertFF: c.int('moe_intermediate_size', 1408),
    sharedFF: c.int('shared_expert_intermediate_size', 5632),
    sparseStep,
    mlpOnly,
  };
  return { moe, isMoe: (i) => !mlpOnly.has(i) && (i + 1) % sparseStep === 0 };
}

export function readTopK(c: HfConfig, key: string, def: number, experts: number, expertsKey: string): number {
  const k = c.int(key, def);
  if (k > experts) c.fail(key, `'${key}' (${k}) must be ≤ ${expertsKey} (${experts})`);
  return k;
}

function runBoundaries(types: string[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < types.length; i++) if (types[i] !== types[i - 1]) out.push(i);
  return out;
}
