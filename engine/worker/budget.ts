import { InspectorError } from '../errors';
import type { ModelSpec } from '../model/spec';
import type { InputIds } from '../../protocol/worker';
import { formatMB } from '../model/memory-budget';

/**
 * The activation budget: before a forward pass runs, an estimate of the bytes its trace holds within the
 * budget, refused past the engine's budget with the numbers and what to change. The trace store
 * (engine/trace/store.ts) always keeps every block's input residual, the embeddings, the final norm and
 * the logits; a block's other steps are kept while they fit and recomputed from its input residual when
 * read after an eviction. So what must fit is the kept steps plus one layer's working set, not the whole
 * trace. fp32 throughout. An estimate from the spec, not a measurement: per block it counts the hooks
 * (d_model-wide, head-wide, d_ff-wide, and heads × T × T_keys attention scores and pattern with their
 * mask), and a factor for the forward pass's temporaries.
 */

/** d_model-wide tensors one block traces per token (resid pre/mid/post, norms, attn/mlp out, q/k/v/z, rotated q/k). */
const MODEL_WIDE_PER_BLOCK = 14;
/** More per token in a decoder block of an encoder-decoder model (cross-attention's norm, q/k/v/z, out, resid). */
const CROSS_WIDE_PER_BLOCK = 6;
/** d_ff-wide tensors per block per token (pre-activation, gate, post-activation). */
const FF_WIDE_PER_BLOCK = 3;
/** T × T tensors per attention and head (scores and pattern). */
const ATTENTION_PER_HEAD = 2;
/** d_model-wide tensors kept per token outside the blocks (token, position and type embeddings, final norm). */
const KEPT_WIDE_PER_STACK = 4;
/** The pass's own temporaries beside the trace. */
const TEMPORARIES = 1.25;

export interface TraceEstimate {
  /** Bytes the pass needs within the budget: the kept steps plus one layer, with the temporaries. */
  bytes: number;
  /** Steps always kept: every block's input residual, embeddings, final norm, logits (and the encoder output). */
  keptBytes: number;
  /** The largest layer's own steps: held while they fit, recomputed from the kept residual otherwise. */
  layerBytes: number;
  /** Of one layer: the attention scores and patterns. */
  attentionBytes: number;
  /** Every step of the pass, with temporaries: what recording all of them would hold. */
  fullBytes: number;
  tokens: number;
}

/** fp32 values of one block's steps over T tokens whose attention sees `keys` keys (a decoder also `crossKeys`). */
function layerValues(spec: ModelSpec, T: number, keys: number, crossKeys = 0): { values: number; attention: number } {
  const d = spec.dModel;
  const ff = Math.max(spec.dFF, d);
  const h = spec.numHeads;
  const wide = T * ((MODEL_WIDE_PER_BLOCK + (crossKeys > 0 ? CROSS_WIDE_PER_BLOCK : 0)) * d + FF_WIDE_PER_BLOCK * ff);
  const attention = ATTENTION_PER_HEAD * h * T * (keys + crossKeys);
  // The mask beside each attention: one byte per query × key.
  return { values: wide + attention + (T * (keys + crossKeys)) / 4, attention };
}

/** Bytes the trace of one pass over `encoderTokens` (and `decoderTokens`) holds within the budget, by the spec. */
export function estimateTrace(spec: ModelSpec, encoderTokens: number, decoderTokens = 0): TraceEstimate {
  const d = spec.dModel;
  const encDec = spec.architecture === 'encoder-decoder';
  const T = encoderTokens;
  const S = encDec ? decoderTokens : 0;
  const main = layerValues(spec, T, T);
  const dec = encDec ? layerValues(spec, S, S, T) : { values: 0, attention: 0 };
  const layer = Math.max(main.values, dec.values);
  // The encoder output is kept for the decoder's cross-attention; its final norm slot counts it.
  const kept = encDec
    ? T * d * (KEPT_WIDE_PER_STACK + spec.numLayers) + S * d * (KEPT_WIDE_PER_STACK + spec.numDecoderLayers) + S * spec.tgtVocabSize
    : T * d * (KEPT_WIDE_PER_STACK + spec.numLayers) + T * spec.vocabSize;
  // A block's count includes its resid_pre, kept above too: counted once in the whole trace.
  const residPre = T * d * spec.numLayers + S * d * (encDec ? spec.numDecoderLayers : 0);
  const all = kept - residPre + spec.numLayers * main.values + (encDec ? spec.numDecoderLayers * dec.values : 0);
  return {
    bytes: 4 * TEMPORARIES * (kept + layer),
    keptBytes: 4 * kept,
    layerBytes: 4 * layer,
    attentionBytes: 4 * Math.max(main.attention, dec.attention),
    fullBytes: 4 * TEMPORARIES * all,
    tokens: encoderTokens + decoderTokens,
  };
}

/** The longest input (tokens on each side) whose trace fits `budget` bytes; 0 when not even one token does. */
export function maxTokensForBudget(spec: ModelSpec, budget: number): number {
  let lo = 1;
  let hi = Math.max(1, spec.maxLen);
  const fits = (T: number) => estimateTrace(spec, T, spec.architecture === 'encoder-decoder' ? T : 0).bytes <= budget;
  if (fits(hi)) return hi;
  if (!fits(1)) return 0;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export { formatMB };

/**
 * Refuse an input whose kept steps plus one layer would not fit the budget, with the numbers and what
 * to change. A longer input than the whole trace would fit runs: its layers are recomputed when read.
 */
export function checkBudget(spec: ModelSpec, input: InputIds, budget: number): void {
  const est = estimateTrace(spec, input.ids.length, input.decoderIds?.length ?? 0);
  if (est.bytes <= budget) return;
  const fit = maxTokensForBudget(spec, budget);
  const T = input.ids.length;
  const S = input.decoderIds?.length ?? 0;
  const decoderLarger = spec.architecture === 'encoder-decoder' && S * (S + T) > T * T;
  const keys = decoderLarger ? `(${S}² + ${S} × ${T})` : `${T}²`;
  // What to change first (the CLI keeps a line's first 300 characters), then where the bytes go.
  throw new InspectorError(
    `an input of ${est.tokens} tokens needs about ${formatMB(est.bytes)} for the forward pass's trace, ` +
      `more than the engine's memory budget of ${formatMB(budget)}: ${fit > 0 ? `use at most ${fit} tokens, ` : 'not even one token fits; '}` +
      `or raise the budget (setting transformerInspector.memoryBudgetMB; CLI --trace-budget). ` +
      `Of it, ${formatMB(est.keptBytes)} is kept (every layer's input residual, the embeddings, the logits) and ${formatMB(est.layerBytes)} is one layer, recomputed when read ` +
      `(${formatMB(est.attentionBytes)} of it attention: ${spec.numHeads} heads × ${keys} scores and patterns)`,
  );
}

/**
 * Analyses, comparisons and quantization record whole passes (not within the trace store): refuse one
 * whose whole trace would not fit the budget, as every pass was refused before the store. Stepping
 * through the same input still works.
 */
export function checkWholeTrace(spec: ModelSpec, input: InputIds, budget: number, what: string): void {
  const est = estimateTrace(spec, input.ids.length, input.decoderIds?.length ?? 0);
  if (est.fullBytes <= budget) return;
  throw new InspectorError(
    `${what} records every step of a forward pass: for ${est.tokens} tokens about ${formatMB(est.fullBytes)}, more than the engine's memory budget of ${formatMB(budget)}: ` +
      `give it a shorter input or raise the budget (setting transformerInspector.memoryBudgetMB). Stepping through this input works: its layers are recomputed when shown.`,
  );
}
