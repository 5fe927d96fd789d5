import type { QuantizationInfo } from '../../analysis/types';
import { headGeometry, type HfConfig } from './reader';
import { hfActivation } from './activation';
import type { Activation } from '../../kernels/ops';

/**
 * BERT read once from a config.json: the defaults of transformers' `BertConfig` (the only table of
 * them) and the model class from `architectures`. The analysis and the runtime builder derive from it.
 */
export type BertHead = 'none' | 'mlm' | 'pretraining' | 'nsp' | 'seq_cls' | 'multiple_choice' | 'token_cls' | 'qa';

export const BERT_CLASSES: Record<string, { head: BertHead; pooler: boolean }> = {
  BertModel: { head: 'none', pooler: true },
  BertForMaskedLM: { head: 'mlm', pooler: false },
  BertLMHeadModel: { head: 'mlm', pooler: false },
  BertForPreTraining: { head: 'pretraining', pooler: true },
  BertForNextSentencePrediction: { head: 'nsp', pooler: true },
  BertForSequenceClassification: { head: 'seq_cls', pooler: true },
  BertForMultipleChoice: { head: 'multiple_choice', pooler: true },
  BertForTokenClassification: { head: 'token_cls', pooler: false },
  BertForQuestionAnswering: { head: 'qa', pooler: false },
};

export interface BertConfig {
  readonly file?: string;
  /** The class counted (from `architectures`, else BertModel), its head and whether it has the pooler. */
  readonly modelClass: string;
  readonly head: BertHead;
  readonly pooler: boolean;
  readonly numLabels: number;
  readonly vocab: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  readonly ff: number;
  readonly maxPos: number;
  /** type_vocab_size; 0 means no token type embedding. */
  readonly typeVocab: number;
  readonly positionType: string;
  readonly eps: number;
  readonly activation: { readonly name: string; readonly fn: Activation | null };
  readonly quantization: QuantizationInfo | null;
  readonly storedDtype: string | null;
  readonly notes: readonly string[];
}

export function resolveBert(c: HfConfig): BertConfig {
  const notes: string[] = [];
  const hidden = c.int('hidden_size', 768);
  const heads = c.int('num_attention_heads', 12);
  const headDim = headGeometry(c, { hidden, heads, kvHeads: heads, headsKey: 'num_attention_heads', kvKey: 'num_attention_heads' });
  let modelClass = c.architecture() ?? 'BertModel';
  if (!BERT_CLASSES[modelClass]) {
    notes.push(`architectures names ${modelClass}: counted as BertModel`);
    modelClass = 'BertModel';
  }
  const actName = c.str('hidden_act', 'gelu');
  return {
    ...(c.file ? { file: c.file } : {}),
    modelClass,
    ...BERT_CLASSES[modelClass],
    numLabels: c.numLabels(),
    vocab: c.int('vocab_size', 30522),
    hidden,
    layers: c.int('num_hidden_layers', 12),
    heads,
    headDim,
    ff: c.int('intermediate_size', 3072),
    maxPos: c.int('max_position_embeddings', 512),
    typeVocab: c.int('type_vocab_size', 2, 0),
    positionType: c.str('position_embedding_type', 'absolute'),
    eps: c.r.number('layer_norm_eps', { default: 1e-12, min: 0, exclusiveMin: true }),
    activation: { name: actName, fn: hfActivation(actName) },
    quantization: c.quantization(),
    storedDtype: c.storedDtype(),
    notes,
  };
}
