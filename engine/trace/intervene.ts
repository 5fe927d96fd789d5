import type { Tensor } from '../tensor';
import type { Step, Trace } from './step';

/**
 * An intervention: looks at each step as it is computed and returns a replacement tensor (same shape) to
 * continue the pass with, or undefined to leave it. One function covers ablation (zeros, means) and
 * activation patching (a tensor from another run).
 */
export type Intervention = (step: Step) => Tensor | undefined;

export interface IntervenedRun<T> {
  /** Every step, holding the tensor that flowed on (the replacement where there was one). */
  steps: Step[];
  result: T;
  /** Names of the hooks that were replaced, in order. */
  replaced: string[];
}

/** Run a trace to completion, handing each step to the intervention and the replacement back to the pass. */
export function runIntervened<T>(trace: Trace<T>, intervene: Intervention, opts: { keep?: (name: string) => boolean } = {}): IntervenedRun<T> {
  const steps: Step[] = [];
  const replaced: string[] = [];
  let answer: Tensor | undefined;
  for (;;) {
    const r = trace.next(answer);
    if (r.done) return { steps, result: r.value, replaced };
    const step = r.value;
    answer = intervene(step);
    if (answer !== undefined) replaced.push(step.name);
    if (!opts.keep || opts.keep(step.name)) steps.push(answer ? { ...step, tensor: answer } : step);
  }
}

/** Replace hooks by name: a map from hook name to a function of the computed tensor. */
export function byName(edits: ReadonlyMap<string, (t: Tensor) => Tensor>): Intervention {
  return (step) => edits.get(step.name)?.(step.tensor);
}
