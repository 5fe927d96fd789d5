import { Tensor, shapeToString } from '../tensor';
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
}

/** A forward computation that yields each step as it is computed and returns its result. */
export type Trace<T = Tensor> = Generator<Step, T, void>;

/** Record a tensor under a hook name (checking its rank against the declared shape) and pass it on. */
export function* hook(name: string, tensor: Tensor, mask?: AttentionMask): Trace {
  const dims = hookDims(name);
  if (dims.length !== tensor.rank) {
    throw new Error(`hook ${name} declared as [${dims.join(', ')}] but got ${shapeToString(tensor.shape)}`);
  }
  yield mask ? { name, tensor, dims, mask } : { name, tensor, dims };
  return tensor;
}

/** Run a trace to completion, collecting every step. */
export function runTrace<T>(trace: Generator<Step, T, void>): { steps: Step[]; result: T } {
  const steps: Step[] = [];
  for (;;) {
    const r = trace.next();
    if (r.done) return { steps, result: r.value };
    steps.push(r.value);
  }
}
