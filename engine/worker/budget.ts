import { InspectorError } from '../errors';
import type { ModelSpec } from '../model/spec';
import type { InputIds } from '../../protocol/worker';

/**
 * The activation budget: before a forward pass runs, an estimate of the bytes its trace (every
 * step's tensor is kept, so the user can step back) will hold, refused past the engine's budget with
 * the numbers and what to change. fp32 throughout. An estimate from the spec, not a measurement:
 * it counts each block's hooks (d_model-wide, head-wide, d_ff-wide, and heads × T² attention scores
 * and pattern), the embeddings and the logits, and a factor for the forward pass's temporaries.
 */

/** d_model-wide tensors one block traces per token (resid pre/mid/post, norms, attn/mlp out, q/k/v/z, rotated q/k). */
const MODEL_WIDE_PER_BLOCK = 14;
/** d_ff-wide tensors per block per token (pre-activation, gate, post-activation). */
const FF_WIDE_PER_BLOCK = 3;
/** T × T tensors per attention and head (scores and pattern). */
const ATTENTION_PER_HEAD = 2;
/** The pass's own temporaries beside the trace. */
const TEMPORARIES = 1.25;

export interface TraceEstimate {
  bytes: number;
  attentionBytes: number;
  tokens: number;
}

/** Bytes the trace of one pass over `encoderTokens` (and `decoderTokens`) holds, by the spec. */
export function estimateTrace(spec: ModelSpec, encoderTokens: number, decoderTokens = 0): TraceEstimate {
  const d = spec.dModel;
  const ff = Math.max(spec.dFF, d);
  const h = spec.numHeads;
  const perToken = (layers: number) => layers * (MODEL_WIDE_PER_BLOCK * d + FF_WIDE_PER_BLOCK * ff) + 3 * d;
  let values: number;
  let attention: number;
  if (spec.architecture === 'encoder-decoder') {
    const T = encoderTokens;
    const S = decoderTokens;
    values = T * perToken(spec.numLayers) + S * perToken(spec.numDecoderLayers) + S * spec.tgtVocabSize;
    attention = ATTENTION_PER_HEAD * h * (spec.numLayers * T * T + spec.numDecoderLayers * (S * S + S * T));
  } else {
    const T = encoderTokens;
    values = T * perToken(spec.numLayers) + T * spec.vocabSize;
    attention = ATTENTION_PER_HEAD * h * spec.numLayers * T * T;
  }
  const bytes = 4 * TEMPORARIES * (values + attention);
  return { bytes, attentionBytes: 4 * attention, tokens: encoderTokens + decoderTokens };
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

export function formatMB(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024).toLocaleString('en-US')} KB`;
  return `${(bytes / (1024 * 1024)).toLocaleString('en-US', { maximumFractionDigits: bytes < 10 * 1024 * 1024 ? 1 : 0 })} MB`;
}

/** Refuse an input whose trace would not fit the budget, with the numbers and what to change. */
export function checkBudget(spec: ModelSpec, input: InputIds, budget: number): void {
  const est = estimateTrace(spec, input.ids.length, input.decoderIds?.length ?? 0);
  if (est.bytes <= budget) return;
  const fit = maxTokensForBudget(spec, budget);
  throw new InspectorError(
    `an input of ${est.tokens} tokens needs about ${formatMB(est.bytes)} for the forward pass's trace ` +
      `(${formatMB(est.attentionBytes)} of it attention: ${spec.numLayers} layers × ${spec.numHeads} heads × ${input.ids.length}² scores and patterns), ` +
      `more than the engine's memory budget of ${formatMB(budget)}: ${fit > 0 ? `use at most ${fit} tokens, ` : 'not even one token fits; '}` +
      `or raise the budget (setting transformerInspector.memoryBudgetMB; CLI --trace-budget)`,
  );
}
