import type { QuantizationInfo } from '../../analysis/types';
import { headGeometry, type HfConfig } from './reader';
import { hfActivation } from './activation';
import type { Activation } from '../../kernels/ops';

/**
 * GPT-2 read once from a config.json: the defaults of transformers' `GPT2Config` (the only table of
 * them), with its attribute map (hidden_size → n_embd, num_attention_heads → n_head,
 * num_hidden_layers → n_layer, max_position_embeddings → n_positions). The analysis and the runtime
 * builder both derive from this.
 */
export interface Gpt2Config {
  readonly file?: string;
  readonly modelClass: string;
  readonly head: 'lm' | 'seq_cls' | 'none';
  readonly numLabels: number;
  readonly vocab: number;
  readonly maxPos: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  readonly inner: number;
  readonly tie: boolean;
  /** GPT2Config's add_cross_attention: a cross-attention per block (an encoder-decoder's decoder). */
  readonly cross: boolean;
  readonly eps: number;
  readonly activation: { readonly name: string; readonly fn: Activation | null };
  /** Scores also divided by layer index + 1 (scale_attn_by_inverse_layer_idx). */
  readonly scaleByLayerIdx: boolean;
  readonly quantization: QuantizationInfo | null;
  readonly storedDtype: string | null;
  readonly notes: readonly string[];
}

/** The key a GPT2Config attribute is stored under: its own name, else the standard alias. */
function key(c: HfConfig, own: string, alias: string): string {
  return !c.has(own) && c.has(alias) ? alias : own;
}

export function resolveGpt2(c: HfConfig): Gpt2Config {
  const notes: string[] = [];
  const dKey = key(c, 'n_embd', 'hidden_size');
  const headsKey = key(c, 'n_head', 'num_attention_heads');
  const hidden = c.int(dKey, 768);
  const heads = c.int(headsKey, 12);
  const headDim = headGeometry(c, { hidden, heads, kvHeads: heads, headsKey, kvKey: headsKey });
  const arch = c.architecture();
  let modelClass = 'GPT2LMHeadModel';
  let head: Gpt2Config['head'] = 'lm';
  if (arch === 'GPT2Model') [modelClass, head] = [arch, 'none'];
  else if (arch === 'GPT2ForSequenceClassification') [modelClass, head] = [arch, 'seq_cls'];
  else if (arch && arch !== 'GPT2LMHeadModel') notes.push(`architectures names ${arch}: counted as GPT2LMHeadModel`);
  notes.push('the causal-mask buffers attn.bias / attn.masked_bias in old checkpoints are not parameters');
  const actName = c.str('activation_function', 'gelu_new');
  return {
    ...(c.file ? { file: c.file } : {}),
    modelClass,
    head,
    numLabels: c.numLabels(),
    vocab: c.int('vocab_size', 50257),
    maxPos: c.int(key(c, 'n_positions', 'max_position_embeddings'), 1024),
    hidden,
    layers: c.int(key(c, 'n_layer', 'num_hidden_layers'), 12),
    heads,
    headDim,
    inner: c.has('n_inner') ? c.int('n_inner', 1) : 4 * hidden,
    tie: c.bool('tie_word_embeddings', true),
    cross: c.bool('add_cross_attention', false),
    eps: c.r.number('layer_norm_epsilon', { default: 1e-5, min: 0, exclusiveMin: true }),
    activation: { name: actName, fn: hfActivation(actName) },
    scaleByLayerIdx: c.bool('scale_attn_by_inverse_layer_idx', false),
    quantization: c.quantization(),
    storedDtype: c.storedDtype(),
    notes,
  };
}
