import type { QuantizationInfo } from '../../analysis/types';
import { headGeometry, type HfConfig } from './reader';
import { hfActivation } from './activation';
import type { Activation } from '../../kernels/ops';

/**
 * BART and Marian (the same fairseq layer layout) read once from a config.json: the defaults of
 * transformers' `BartConfig` / `MarianConfig` (the only table of them). The analysis and the runtime
 * builder derive from it.
 */
export interface BartConfig {
  readonly family: 'bart' | 'marian';
  readonly file?: string;
  /** `Marian` or `Bart`. */
  readonly prefix: string;
  readonly modelClass: string;
  /** The class has the LM head (MarianMTModel, BartForConditionalGeneration), not a bare model or a classifier. */
  readonly taskClass: string;
  readonly numLabels: number;
  readonly vocab: number;
  readonly decoderVocab: number;
  readonly hidden: number;
  readonly encoder: { readonly layers: number; readonly heads: number; readonly headDim: number; readonly ff: number };
  readonly decoder: { readonly layers: number; readonly heads: number; readonly headDim: number; readonly ff: number };
  readonly maxPos: number;
  /** One embedding for both sides (`model.shared`). */
  readonly share: boolean;
  readonly tie: boolean;
  readonly scaleEmbedding: boolean;
  readonly activation: { readonly name: string; readonly fn: Activation | null };
  readonly quantization: QuantizationInfo | null;
  readonly storedDtype: string | null;
  readonly notes: readonly string[];
}

export function resolveBart(c: HfConfig, family: 'bart' | 'marian'): BartConfig {
  const notes: string[] = [];
  const marian = family === 'marian';
  const vocab = c.int('vocab_size', marian ? 58101 : 50265);
  const decoderVocab = marian ? c.int('decoder_vocab_size', vocab) : vocab;
  const hidden = c.int('d_model', 1024);
  const side = (s: 'encoder' | 'decoder') => {
    const headsKey = `${s}_attention_heads`;
    const heads = c.int(headsKey, 16);
    return {
      layers: c.int(`${s}_layers`, 12),
      heads,
      headDim: headGeometry(c, { hidden, heads, kvHeads: heads, headsKey, kvKey: headsKey }),
      ff: c.int(`${s}_ffn_dim`, 4096),
    };
  };
  const share = marian ? c.bool('share_encoder_decoder_embeddings', true) : true;
  if (share && decoderVocab !== vocab)
    c.fail('decoder_vocab_size', `shared encoder/decoder embeddings need decoder_vocab_size (${decoderVocab}) = vocab_size (${vocab})`);
  const prefix = marian ? 'Marian' : 'Bart';
  const taskClass = marian ? 'MarianMTModel' : 'BartForConditionalGeneration';
  const arch = c.architecture();
  let modelClass = taskClass;
  if (arch === `${prefix}Model` || arch === `${prefix}ForSequenceClassification`) modelClass = arch;
  else if (arch && arch !== taskClass) notes.push(`architectures names ${arch}: counted as ${taskClass}`);
  const actName = c.str('activation_function', 'gelu');
  return {
    family,
    ...(c.file ? { file: c.file } : {}),
    prefix,
    modelClass,
    taskClass,
    numLabels: c.numLabels(),
    vocab,
    decoderVocab,
    hidden,
    encoder: side('encoder'),
    decoder: side('decoder'),
    maxPos: c.int('max_position_embeddings', 1024),
    share,
    tie: c.bool('tie_word_embeddings', true),
    scaleEmbedding: c.bool('scale_embedding', false),
    activation: { name: actName, fn: hfActivation(actName) },
    quantization: c.quantization(),
    storedDtype: c.storedDtype(),
    notes,
  };
}
