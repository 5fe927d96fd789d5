import { Tensor, sameShape, shapeToString } from '../tensor';
import { InspectorError } from '../errors';
import { hookDims, type Dim } from './hooks';
import type { AttentionMask } from '../nn/mask';

/** One recorded step of a forward pass: a named intermediate tensor. */
export interface Step {
  /** TransformerLens-style hook name, e.g. `blocks.0.attn.hook_pattern`. */
  readonly name: string;
  readonly tensor: Tensor;
  /** Symbolic shape, from HOOK_DIMS. */
  readonly dims: readonly Dim[];
  /** For attention scores/patterns: the mask that was applied (1 = attended, 0 = masked out). */
  readonly mask?: AttentionMask;
  /** Recorded for display only: nothing downstream reads it back, so it cannot be replaced. */
  readonly observed?: true;
}

/**
 * A forward computation that yields each step as it is computed and returns its result.
 * The consumer may answer a step with a replacement tensor of the same shape (`trace.next(t)`): the pass
 * then continues with it, as a TransformerLens hook function that returns a new activation does.
 */
export type Trace<T = Tensor> = Generator<Step, T, Tensor | undefined>;

function makeStep(name: string, tensor: Tensor, mask: AttentionMask | undefined, observed: boolean): Step {
  const dims = hookDims(name);
  if (dims.length !== tensor.rank) {
    throw new Error(`hook ${name} declared as [${dims.join(', ')}] but got ${shapeToString(tensor.shape)}`);
  }
  const step: Step = mask ? { name, tensor, dims, mask } : { name, tensor, dims };
  return observed ? { ...step, observed: true } : step;
}

/**
 * Record a tensor under a hook name (checking its rank against the declared shape) and pass it on —
 * or pass on the replacement the consumer answered with.
 */
export function* hook(name: string, tensor: Tensor, mask?: AttentionMask): Trace {
  const replacement = yield makeStep(name, tensor, mask, false);
  if (replacement === undefined) return tensor;
  if (!sameShape(replacement.shape, tensor.shape)) {
    throw new InspectorError(`a replacement for ${name} must have its shape ${shapeToString(tensor.shape)}, not ${shapeToString(replacement.shape)}`);
  }
  return replacement;
}

/** Record a tensor that nothing downstream reads back (an attention pattern, a router's softmax). */
export function* observe(name: string, tensor: Tensor, mask?: AttentionMask): Generator<Step, void, Tensor | undefined> {
  const replacement = yield makeStep(name, tensor, mask, true);
  if (replacement !== undefined) {
    throw new InspectorError(`${name} is recorded for display only and cannot be replaced (intervene on hook_z, hook_attn_out or hook_mlp_out instead)`);
  }
}

/** Run a trace to completion, collecting every step. */
export function runTrace<T>(trace: Generator<Step, T, Tensor | undefined>): { steps: Step[]; result: T } {
  const steps: Step[] = [];
  for (;;) {
    const r = trace.next();
    if (r.done) return { steps, result: r.value };
    steps.push(r.value);
  }
}
