/**
 * What the panel sees of a session's current step: its position in the pass, the reduced view with
 * labels along each position axis, the explanation, the predictions at the logits, and the model's
 * info. Read-only functions of a snapshot of the session (SessionView).
 */
import { formatBytes } from '../model/streaming';
import type { LoadedModel } from '../model/load';
import type { Stepper } from '../trace/stepper';
import type { Step } from '../trace/step';
import { isAttentionHook } from '../trace/hooks';
import { traceModelInfo, type OpenedTrace } from '../tracefile/session';
import type { ModelInfo, StepInfo } from '../../protocol/webview';
import type { InputIds, Position, StepSummary } from '../../protocol/worker';
import { attentionView, matrixView, type Reduced } from './views';
import { nextTokenTargets, predictionsView } from './predictions';
import { breadcrumb, explain, type ExplainTerms } from './explain';
import type { PatchedRun } from './patched-run';

/** The state of a session the views read (a snapshot: the session owns and changes it). */
export interface SessionView {
  loaded: LoadedModel;
  input: InputIds;
  /** The text each side was tokenized from, when the input was given as text. */
  inputText: { text?: string; decoderText?: string };
  stepper: Stepper;
  /** The terms this model's formulas have (biases, the head's name), from its tree. */
  terms: ExplainTerms | undefined;
  /** Set when the session walks a recorded trace instead of computing. */
  traced: OpenedTrace | undefined;
  /** Set while the stepper walks a patching cell's patched run instead of the input's pass. */
  patched: PatchedRun | undefined;
  /** The generated position the stepper walks (its steps alone), or undefined for the whole pass. */
  shown: number | undefined;
}

export function position(v: SessionView): Position {
  const s = v.stepper;
  const step = s.current;
  if (!step) return { kind: 'before', computed: s.steps.length, done: s.done };
  return { kind: 'step', step: stepInfo(v, step, s.index) };
}

function stepInfo(v: SessionView, step: Step, index: number): StepInfo {
  const s = v.stepper;
  const spec = v.loaded.spec;
  const reduced = reduce(v, step);
  return {
    index,
    computed: s.steps.length,
    done: s.done,
    name: step.name,
    breadcrumb: breadcrumb(step.name, spec.architecture),
    dims: [...step.dims],
    shape: [...step.tensor.shape],
    explanation: explain(step.name, spec, v.terms),
    view: reduced.view,
    stats: reduced.stats,
    ...(step.name === 'logits' && step.dims[step.dims.length - 1] === 'd_vocab' ? { predictions: predictions(v, step) } : {}),
    ...(v.patched ? { patched: v.patched.label } : {}),
  };
}

/** Top-k per position; the targets are the next input token (decoder side for encoder-decoders). */
function predictions(v: SessionView, step: Step) {
  const { spec, tokenizer } = v.loaded;
  const input = v.patched?.input ?? v.input;
  const label = (id: number) => (tokenizer ? tokenizer.label(id) : String(id));
  const side = spec.architecture === 'encoder-decoder' ? (input.decoderIds ?? []) : input.ids;
  // An encoder (masked LM) predicts each position's own token, not the next one: no loss is claimed.
  const targets = spec.architecture === 'encoder' ? [] : v.shown !== undefined ? [side[v.shown + 1]] : nextTokenTargets(side);
  return predictionsView(step.tensor, label, targets);
}

function reduce(v: SessionView, step: Step): Reduced {
  const { queries, keys, rows } = positionLabels(v, step.name);
  if (isAttentionHook(step.name)) return attentionView(step.tensor, step.mask, queries, keys);
  const reduced = matrixView(step.tensor, step.dims, rows);
  const tokenizer = v.loaded.tokenizer;
  if (tokenizer && reduced.view.kind === 'matrix' && step.dims[step.dims.length - 1] === 'd_vocab') {
    reduced.view.colLabels = reduced.view.colIndex.map((id) => tokenizer.label(id));
  }
  return reduced;
}

/** Token labels along each position axis of a step: decoder-side steps use the decoder tokens. */
export function positionLabels(v: SessionView, name: string): { queries: string[]; keys: string[]; rows: string[] } {
  const info = v.patched ? { ...modelInfo(v), tokens: v.patched.input.ids.map((id) => v.loaded.tokenizer?.label(id) ?? String(id)) } : modelInfo(v);
  const decoderSide = info.architecture === 'encoder-decoder' && (name.startsWith('decoder.') || name === 'logits');
  const side = decoderSide ? (info.decoderTokens ?? []) : info.tokens;
  const cross = name.includes('.cross_attn.');
  const keyTokens = cross ? info.tokens : side;
  const kvStep = /\.hook_(k|v|rot_k)$/.test(name);
  // Latent-bottleneck attention: latents query the tokens, then the tokens query the latents.
  if (name.includes('.to_latents.')) return { queries: [], keys: side, rows: kvStep ? side : [] };
  if (name.includes('.from_latents.')) return { queries: side, keys: [], rows: kvStep ? [] : side };
  // A trace that kept some positions holds those along pos / query_pos; key_pos stays whole.
  // A generated position traced alone: its one query over the keys up to it.
  if (v.shown !== undefined) return { queries: [side[v.shown]], keys: side.slice(0, v.shown + 1), rows: [side[v.shown]] };
  const kept = v.traced?.trace.manifest.positions;
  if (kept && !decoderSide) return { queries: kept.map((p) => side[p]), keys: keyTokens, rows: kept.map((p) => side[p]) };
  return { queries: side, keys: keyTokens, rows: cross && kvStep ? info.tokens : side };
}

export function modelInfo(v: SessionView): ModelInfo {
  if (v.traced) return traceModelInfo(v.traced);
  const { configPath, spec, model, weightsPath, tokenizer, streaming } = v.loaded;
  const input = v.input;
  const label = (id: number) => (tokenizer ? tokenizer.label(id) : String(id));
  return {
    configPath,
    family: spec.family,
    architecture: spec.architecture,
    weights: (weightsPath ?? model.weightsDescription) + (streaming ? ` (streamed layer by layer: ${formatBytes(streaming.weightBytes())} of fp32 weights, ${formatBytes(streaming.budgetBytes)} budget)` : ''),
    seeded: model.seeded,
    tokens: input.ids.map(label),
    ...(input.decoderIds ? { decoderTokens: input.decoderIds.map(label), decoderIds: [...input.decoderIds] } : {}),
    ids: [...input.ids],
    ...v.inputText,
    parameterCount: model.parameterCount(),
    unusedWeights: [...model.unusedWeights],
    computedBuffers: [...model.computedBuffers],
  };
}

export function stepSummaries(stepper: Stepper): StepSummary[] {
  return stepper.steps.map((s) => ({ name: s.name, shape: [...s.tensor.shape] }));
}
