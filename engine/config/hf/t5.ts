import type { QuantizationInfo } from '../../analysis/types';
import type { HfConfig } from './reader';
import { hfActivation } from './activation';
import type { Activation } from '../../kernels/ops';

/**
 * T5 read once from a config.json: the defaults of transformers' `T5Config` (the only table of them)
 * and the model class from `architectures`. T5 is analysed, not run: its description is never
 * allocated, but the analysis derives from this and never reads the JSON.
 */
export interface T5Config {
  readonly file?: string;
  /** T5ForConditionalGeneration (with the LM head) or T5Model. */
  readonly modelClass: 'T5ForConditionalGeneration' | 'T5Model';
  readonly vocab: number;
  readonly hidden: number;
  /** d_kv: the per-head width, independent of d_model / num_heads. */
  readonly headDim: number;
  readonly heads: number;
  readonly ff: number;
  readonly encoderLayers: number;
  /** num_decoder_layers, = num_layers when absent (T5Config's "symmetry" default). */
  readonly decoderLayers: number;
  readonly buckets: number;
  readonly maxDistance: number;
  readonly eps: number;
  /** feed_forward_proj: "relu", "gelu", "gated-gelu" (→ gelu_new, as T5Config maps it), "gated-silu", … */
  readonly ffn: { readonly proj: string; readonly gated: boolean; readonly activation: string; readonly fn: Activation | null };
  /**
   * tie_word_embeddings (default true): whether lm_head is shared.weight. transformers 4 builds a
   * separate lm_head when false (T5 v1.1, Flan-T5); 5.x always ties and reads false as "do not
   * rescale the decoder output" — the count here follows the checkpoints, which carry lm_head.weight.
   */
  readonly tie: boolean;
  /** n_positions when the config gives it (T5's relative buckets do not bound the context). */
  readonly maxPos: number | null;
  readonly quantization: QuantizationInfo | null;
  readonly storedDtype: string | null;
  readonly notes: readonly string[];
}

export function resolveT5(c: HfConfig): T5Config {
  const notes: string[] = [];
  const arch = c.architecture();
  let modelClass: T5Config['modelClass'] = 'T5ForConditionalGeneration';
  if (arch === 'T5Model') modelClass = arch;
  else if (arch && arch !== modelClass) notes.push(`architectures names ${arch}: counted as T5ForConditionalGeneration`);
  const proj = c.str('feed_forward_proj', 'relu');
  const parts = proj.split('-');
  if ((parts.length > 1 && parts[0] !== 'gated') || parts.length > 2) {
    c.fail('feed_forward_proj', `'feed_forward_proj' must be "ACT" or "gated-ACT" (e.g. "relu", "gated-gelu"), got "${proj}"`);
  }
  const gated = parts[0] === 'gated';
  const activation = proj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1];
  const encoderLayers = c.int('num_layers', 6);
  return {
    ...(c.file ? { file: c.file } : {}),
    modelClass,
    vocab: c.int('vocab_size', 32128),
    hidden: c.int('d_model', 512),
    headDim: c.int('d_kv', 64),
    heads: c.int('num_heads', 8),
    ff: c.int('d_ff', 2048),
    encoderLayers,
    decoderLayers: c.int('num_decoder_layers', encoderLayers),
    buckets: c.int('relative_attention_num_buckets', 32),
    maxDistance: c.int('relative_attention_max_distance', 128),
    eps: c.r.number('layer_norm_epsilon', { default: 1e-6, min: 0, exclusiveMin: true }),
    ffn: { proj, gated, activation, fn: hfActivation(activation) },
    tie: c.bool('tie_word_embeddings', true),
    maxPos: c.has('n_positions') ? c.int('n_positions', 512) : null,
    quantization: c.quantization(),
    storedDtype: c.storedDtype(),
    notes,
  };
}
