import type { Activation } from '../../kernels/ops';
import type { QuantizationInfo } from '../../analysis/types';
import { decoderHead, type CausalLmConfig, type HfConfig } from './reader';
import { hfActivation } from './activation';
import { readRope, type RopeSettings } from './rope';
import { readTopK } from './llama';

/**
 * DeepSeek-V2 and V3 read once from a config.json: the defaults of transformers' DeepseekV2Config /
 * DeepseekV3Config (the only table of them; `moe_layer_freq` and `num_nextn_predict_layers` come from
 * DeepSeek's own configuration files, defaults 1 and 0). The analysis and the runtime builder derive
 * from it.
 */
const D = {
  deepseek_v2: { prefix: 'DeepseekV2', vocab: 32000, hidden: 4096, ff: 11008, moeFF: 1407, layers: 32, heads: 32, routed: 64, shared: 2, topK: null, firstDense: 0, qLora: 1536, maxPos: 2048 },
  deepseek_v3: { prefix: 'DeepseekV3', vocab: 129280, hidden: 7168, ff: 18432, moeFF: 2048, layers: 61, heads: 128, routed: 256, shared: 1, topK: 8, firstDense: 3, qLora: 1536, maxPos: 4096 },
} as const;

export type DeepseekFamily = keyof typeof D;
export const DEEPSEEK_FAMILIES = Object.keys(D) as DeepseekFamily[];

export interface DeepseekConfig extends CausalLmConfig<DeepseekFamily> {
  /** Multi-head latent attention: null qLora = queries by one q_proj. */
  readonly mla: { readonly kvLora: number; readonly qLora: number | null; readonly rope: number; readonly nope: number; readonly v: number; readonly bias: boolean };
  readonly moe: {
    readonly routed: number;
    readonly shared: number;
    readonly expertFF: number;
    readonly firstDense: number;
    readonly freq: number;
    readonly topK: number;
    readonly topkMethod: string;
    readonly scoring: string;
    readonly groups: number;
    readonly topkGroups: number;
    readonly normTopK: boolean;
    readonly scale: number;
    /** DeepSeek-V3's (and noaux_tc's) routing bias gate.e_score_correction_bias. */
    readonly scoreBias: boolean;
  };
  /** Layer i is a MoE layer. */
  readonly isMoeLayer: (i: number) => boolean;
  /** DeepSeek-V3's multi-token-prediction layers stored after the last one. */
  readonly mtpLayers: number;
  readonly eps: number;
  readonly ropeTheta: number;
  readonly ropeScaled: boolean;
  /** rope_theta/rope_scaling (transformers 4) or rope_parameters (5), read by readRope; `key` names a scaling type's origin. */
  readonly rope: RopeSettings;
  readonly activation: { readonly name: string; readonly fn: Activation | null };
  readonly quantization: QuantizationInfo | null;
  readonly storedDtype: string | null;
  readonly notes: readonly string[];
}

export function resolveDeepseek(c: HfConfig, family: DeepseekFamily): DeepseekConfig {
  const d = D[family];
  const notes: string[] = [];
  const orNull = (key: string, def: number, min: number): number =>
    c.has(key) ? c.int(key, 1, min) : c.obj[key] === null ? 0 : def;
  const routed = orNull('n_routed_experts', d.routed, 0);
  const freq = c.int('moe_layer_freq', 1);
  if (freq > 4096) c.fail('moe_layer_freq', `'moe_layer_freq' must be ≤ 4096, got ${freq}`);
  let topK = 0;
  if (routed > 0) {
    if (!c.has('num_experts_per_tok') && d.topK === null)
      c.fail('num_experts_per_tok', `'num_experts_per_tok' is required when there are routed experts`);
    topK = readTopK(c, 'num_experts_per_tok', d.topK ?? 1, routed, 'n_routed_experts');
  }
  const topkMethod = c.str('topk_method', family === 'deepseek_v3' ? 'noaux_tc' : 'greedy');
  const firstDense = c.int('first_k_dense_replace', d.firstDense, 0);
  const { cls, head, note } = decoderHead(c.architecture(), d.prefix);
  if (note) notes.push(note);
  const actName = c.str('hidden_act', 'silu');
  const rope = readRope(c, { theta: 10000, partialFactor: 1 });
  return {
    family,
    ...(c.file ? { file: c.file } : {}),
    prefix: d.prefix,
    modelClass: cls,
    head,
    numLabels: c.numLabels(),
    vocab: c.int('vocab_size', d.vocab),
    hidden: c.int('hidden_size', d.hidden),
    ff: c.int('intermediate_size', d.ff),
    layers: c.int('num_hidden_layers', d.layers),
    heads: c.int('num_attention_heads', d.heads),
    maxPos: c.int('max_position_embeddings', d.maxPos),
    tie: c.bool('tie_word_embeddings', false),
    mla: {
      kvLora: c.int('kv_lora_rank', 512),
      qLora: c.has('q_lora_rank') ? c.int('q_lora_rank', 1) : c.obj.q_lora_rank === null ? null : d.qLora,
      rope: c.int('qk_rope_head_dim', 64),
      nope: c.int('qk_nope_head_dim', 128, 0),
      v: c.int('v_head_dim', 128),
      bias: c.bool('attention_bias', false),
    },
    moe: {
      routed,
      shared: orNull('n_shared_experts', d.shared, 0),
      expertFF: c.int('moe_intermediate_size', d.moeFF),
      firstDense,
      freq,
      topK,
      topkMethod,
      scoring: c.str('scoring_func', family === 'deepseek_v3' ? 'sigmoid' : 'softmax'),
      groups: c.int('n_group', 1),
      topkGroups: c.int('topk_group', 1),
      normTopK: c.bool('norm_topk_prob', false),
      scale: c.r.number('routed_scaling_factor', { default: 1 }),
      scoreBias: family === 'deepseek_v3' || topkMethod === 'noaux_tc',
    },
    isMoeLayer: (i) => routed > 0 && i >= firstDense && i % freq === 0,
    mtpLayers: family === 'deepseek_v3' ? c.int('num_nextn_predict_layers', 0, 0) : 0,
    eps: c.r.number('rms_norm_eps', { default: 1e-6, min: 0, exclusiveMin: true }),
    ropeTheta: rope.theta,
    ropeScaled: rope.scaled,
    rope,
    activation: { name: actName, fn: hfActivation(actName) },
    quantization: c.quantization(),
    storedDtype: c.storedDtype(),
    notes,
  };
}
