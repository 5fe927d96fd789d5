import { InspectorError } from '../errors';
import { loadModel, type LoadedModel } from '../model/load';
import type { Tensor } from '../tensor';
import { sameShape, shapeToString } from '../tensor';
import { compareSteps } from '../analyses/compare';
import { runTrace, type Step } from '../trace/step';
import { isAttentionHook } from '../trace/hooks';
import { attentionView, matrixView } from './views';
import type { QuantSession } from './quant-session';
import type { Comparison, InputIds } from '../../protocol/worker';
import { estimateTrace, formatMB } from './budget';

/**
 * Compare With… another model: the current input through the loaded model (A) and through a second one
 * (B) — another checkpoint of the same architecture, loaded into this engine process beside the first
 * (loadModel checks that its weights fit the memory left, engine/model/fits.ts), or the quantized copy
 * the Quantization tab made. Both passes are kept for the input, so stepping re-compares at the new hook
 * without recomputing; models whose hooks or shapes differ are refused, naming both.
 */

/** One pass of a model over an input: every step, and the logits. */
export interface Pass {
  steps: Step[];
  logits: Tensor;
}

/** The second side of a comparison: how it is named and how it runs an input. */
export interface OtherModel {
  /** What the panel calls it (the config's path, or "quantized copy (rtn, 4 bits)"). */
  label: string;
  /** Which choice it answers (the path, or 'quantized'), so a repeated Compare With… reuses it. */
  key: string;
  run(input: InputIds): Pass;
}

/** A config or folder loaded beside the first model; refused when it cannot run the same input. */
export function loadOtherModel(path: string, opts: { memoryBudget?: number; activationBudget?: number; availableBytes?: number } = {}): OtherModel & { loaded: LoadedModel } {
  // Memory available is read now, with the first model's weights already held by this process.
  const loaded = loadModel(path, {
    ...(opts.memoryBudget !== undefined && { memoryBudget: opts.memoryBudget }),
    ...(opts.activationBudget !== undefined && { activationBudget: opts.activationBudget }),
    ...(opts.availableBytes !== undefined && { availableBytes: opts.availableBytes }),
  });
  return { loaded, label: loaded.configPath, key: path, run: (input) => passOf(loaded, input) };
}

/** The quantized copy of the loaded model (the Quantization tab's). */
export function quantizedOther(quant: QuantSession, describe: string): OtherModel {
  return {
    label: `quantized copy (${describe})`,
    key: 'quantized',
    run: (input) => {
      const steps = quant.quantizedPass(input);
      const logits = steps.find((s) => s.name === 'logits')?.tensor;
      if (!logits) throw new InspectorError('the quantized pass recorded no logits');
      return { steps, logits };
    },
  };
}

export function passOf(loaded: LoadedModel, input: InputIds): Pass {
  const r = runTrace(loaded.model.forward({ ids: [input.ids], ...(input.decoderIds ? { decoderIds: [input.decoderIds] } : {}) }));
  return { steps: r.steps, logits: r.result };
}

/** The input's ids must be in B's vocabulary too, else the two models read different things. */
export function checkSameVocabulary(a: LoadedModel, b: LoadedModel, labels: { a: string; b: string }): void {
  if (a.spec.architecture !== b.spec.architecture) {
    throw new InspectorError(`cannot compare ${labels.a} with ${labels.b}: one is ${a.spec.architecture}, the other ${b.spec.architecture}`, { file: b.configPath });
  }
  if (a.spec.vocabSize !== b.spec.vocabSize) {
    throw new InspectorError(`cannot compare ${labels.a} with ${labels.b}: their vocabularies differ (${a.spec.vocabSize} and ${b.spec.vocabSize} tokens)`, { file: b.configPath });
  }
}

/** Refuse two passes whose hooks or shapes differ: the message names both models and the first differences. */
export function checkSameHooks(a: Pass, b: Pass, labels: { a: string; b: string }): void {
  const bBy = new Map(b.steps.map((s) => [s.name, s.tensor.shape]));
  const aNames = new Set(a.steps.map((s) => s.name));
  const diffs: string[] = [];
  for (const s of a.steps) {
    const other = bBy.get(s.name);
    if (!other) diffs.push(`${s.name} only in ${labels.a}`);
    else if (!sameShape(other, s.tensor.shape)) diffs.push(`${s.name} is ${shapeToString(s.tensor.shape)} in ${labels.a} but ${shapeToString(other)} in ${labels.b}`);
  }
  for (const s of b.steps) if (!aNames.has(s.name)) diffs.push(`${s.name} only in ${labels.b}`);
  if (!sameShape(a.logits.shape, b.logits.shape)) diffs.push(`the logits are ${shapeToString(a.logits.shape)} and ${shapeToString(b.logits.shape)}`);
  if (diffs.length === 0) return;
  const more = diffs.length > 3 ? ` (and ${diffs.length - 3} more)` : '';
  throw new InspectorError(`cannot compare ${labels.a} with ${labels.b}: their hooks differ — ${diffs.slice(0, 3).join('; ')}${more}. Compare two checkpoints of one architecture, or a model and its quantized copy.`);
}

/**
 * Both passes over one input at one hook, reduced as the step view reduces a step, and their difference
 * (B − A); every hook's size of change; the tokens whose probability moved most at the last position.
 */
export function modelComparison(a: Pass, b: Pass, hook: string, tokens: string[], label: (id: number) => string, labels: { a: string; b: string }, top = 8): Comparison {
  checkSameHooks(a, b, labels);
  const r = compareSteps(a.steps, b.steps, a.logits, b.logits, { top });
  const stepA = a.steps.find((s) => s.name === hook);
  const stepB = b.steps.find((s) => s.name === hook);
  if (!stepA || !stepB) throw new InspectorError(`compare: no step ${hook} in both runs`);
  const at = r.hooks.find((x) => x.hook === hook)!;
  const reduce = (s: Step, t: Tensor) => (isAttentionHook(s.name) ? attentionView(t, s.mask, tokens, tokens) : matrixView(t, s.dims, tokens)).view;
  const changes = r.topChanges.length ? r.topChanges[r.topChanges.length - 1] : [];
  return {
    kind: 'comparison',
    hook,
    a: reduce(stepA, stepA.tensor),
    b: reduce(stepB, stepB.tensor),
    diff: reduce(stepA, at.diff),
    maxAbs: at.maxAbs,
    meanAbs: at.meanAbs,
    relative: at.relative,
    hooks: r.hooks.map((x) => ({ hook: x.hook, maxAbs: x.maxAbs, relative: x.relative })),
    unmatched: [],
    topChanges: changes.map((c) => ({ ...c, token: label(c.id) })),
    tokensB: tokens,
    models: labels,
  };
}

/** The passes of both models over the current input, computed once per input. */
export class ModelComparer {
  /** The quantized model it compares with, when it is the quantized copy (a new quantization replaces it). */
  quant?: QuantSession;
  private passes: { input: InputIds; a: Pass; b: Pass } | undefined;

  constructor(
    readonly other: OtherModel,
    private readonly runA: (input: InputIds) => Pass,
    readonly labels: { a: string; b: string },
  ) {}

  compare(input: InputIds, hook: string, tokens: string[], label: (id: number) => string): Comparison {
    if (!this.passes || this.passes.input !== input) {
      this.passes = undefined;
      const a = this.runA(input);
      const b = this.other.run(input);
      checkSameHooks(a, b, this.labels);
      this.passes = { input, a, b };
    }
    return modelComparison(this.passes.a, this.passes.b, hook, tokens, label, this.labels);
  }
}

/** Which model Compare With… compares the loaded one with: a config or folder, or the quantized copy. */
export type ModelChoice = { path: string } | { quantized: true };

/**
 * The comparer for a choice: the one already open when it answers the same choice (the second model stays
 * loaded), else a new one. The quantized copy needs Quantize Model… first.
 */
export function chooseComparer(
  current: ModelComparer | undefined,
  loaded: LoadedModel,
  choice: ModelChoice,
  quant: QuantSession | undefined,
  opts: { memoryBudget?: number; activationBudget?: number; availableBytes?: number } = {},
): ModelComparer {
  if (loaded.spec.architecture === 'encoder-decoder') throw new InspectorError('Compare With… runs single-stack models (encoder or decoder)', { file: loaded.configPath });
  const key = 'path' in choice ? choice.path : 'quantized';
  if (current && current.other.key === key && (key !== 'quantized' || current.quant === quant)) return current;
  const runA = (input: InputIds) => passOf(loaded, input);
  if ('quantized' in choice) {
    if (!quant) throw new InspectorError('there is no quantized copy: run Quantize Model… (the Quantization tab) first');
    const r = quant.report;
    const other = quantizedOther(quant, `${r.method}${r.method === 'int8' || r.method === 'llm-int8' ? '' : `, ${r.bits} bits${r.group ? `, groups of ${r.group}` : ''}`}`);
    return Object.assign(new ModelComparer(other, runA, { a: loaded.configPath, b: other.label }), { quant });
  }
  if (typeof choice.path !== 'string' || choice.path.length === 0) throw new InspectorError('Compare With…: name the other model’s config or folder');
  // The first model's memory is taken already: the second loads only into what is left (engine/model/fits.ts).
  const other = loadOtherModel(choice.path, opts);
  const labels = { a: loaded.configPath, b: other.loaded.configPath };
  if (other.loaded.configPath === loaded.configPath) throw new InspectorError(`Compare With…: ${labels.b} is the model already loaded; pick another checkpoint`, { file: labels.b });
  checkSameVocabulary(loaded, other.loaded, labels);
  return new ModelComparer(other, runA, labels);
}

/**
 * The comparison keeps both models' passes over the input beside the stepper's own: the three traces
 * must fit the engine's activation budget (engine/worker/budget.ts), else the request is refused.
 */
export function checkComparisonBudget(loaded: LoadedModel, input: InputIds, budget: number): void {
  // Both models' passes are recorded whole (not within the trace store), as is the stepper's when it is in memory.
  const one = estimateTrace(loaded.spec, input.ids.length, input.decoderIds?.length ?? 0).fullBytes;
  if (3 * one <= budget) return;
  throw new InspectorError(
    `comparing two models keeps both passes over these ${input.ids.length} tokens beside the stepper's (3 × ${formatMB(one)}), past the engine's ${formatMB(budget)} activation budget: compare a shorter input, or raise transformerInspector.memoryBudgetMB`,
  );
}
