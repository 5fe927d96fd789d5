import { Tensor, sameShape, shapeToString } from '../tensor';
import { InspectorError } from '../errors';
import type { ModelInput, TransformerModel } from '../model/transformer';
import { runTrace, type Step } from '../trace/step';
import { logitRow, logSumExp } from './metrics';

/**
 * Compare two runs side by side at the same hooks: two inputs through one model, or one input through two
 * models of the same architecture (two checkpoints, or a model and its quantized copy). For every hook
 * both runs recorded with the same shape: the difference tensor (b − a) and its size; at the logits, the
 * tokens whose probability moved most.
 */
export interface HookComparison {
  hook: string;
  shape: readonly number[];
  /** max |b − a| and mean |b − a|. */
  maxAbs: number;
  meanAbs: number;
  /** ‖b − a‖ / ‖a‖ (0 when both are zero). */
  relative: number;
  /** b − a, same shape. */
  diff: Tensor;
}

export interface TokenChange {
  id: number;
  before: number;
  after: number;
  delta: number;
}

export interface RunComparison {
  hooks: HookComparison[];
  /** Hooks recorded by one run only, or with different shapes (e.g. two inputs of different lengths). */
  unmatched: { hook: string; a?: readonly number[]; b?: readonly number[] }[];
  /** At each position of sequence 0: the k tokens whose probability changed most. */
  topChanges: TokenChange[][];
}

export function compareTensors(hook: string, a: Tensor, b: Tensor): HookComparison {
  if (!sameShape(a.shape, b.shape)) throw new InspectorError(`${hook}: cannot compare ${shapeToString(a.shape)} with ${shapeToString(b.shape)}`);
  const diff = new Tensor(a.shape);
  let max = 0;
  let sum = 0;
  let ss = 0;
  let ref = 0;
  for (let i = 0; i < a.size; i++) {
    const d = b.data[i] - a.data[i];
    diff.data[i] = d;
    const m = Math.abs(d);
    if (m > max) max = m;
    sum += m;
    ss += d * d;
    ref += a.data[i] * a.data[i];
  }
  return { hook, shape: a.shape, maxAbs: max, meanAbs: a.size ? sum / a.size : 0, relative: ref > 0 ? Math.sqrt(ss / ref) : ss > 0 ? Infinity : 0, diff };
}

/** The k tokens at (0, t) whose probability moved most between two logit tensors [B, T, V]. */
export function probabilityChanges(a: Tensor, b: Tensor, t: number, k: number): TokenChange[] {
  const ra = logitRow(a, 0, t);
  const rb = logitRow(b, 0, t);
  const la = logSumExp(ra);
  const lb = logSumExp(rb);
  const changes: TokenChange[] = [];
  for (let id = 0; id < ra.length; id++) {
    const before = Math.exp(ra[id] - la);
    const after = Math.exp(rb[id] - lb);
    changes.push({ id, before, after, delta: after - before });
  }
  return changes.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.id - y.id).slice(0, k);
}

export function compareSteps(a: readonly Step[], b: readonly Step[], logitsA: Tensor, logitsB: Tensor, opts: { hooks?: readonly string[]; top?: number } = {}): RunComparison {
  const bBy = new Map(b.map((s) => [s.name, s.tensor]));
  const aNames = new Set(a.map((s) => s.name));
  const wanted = opts.hooks ? new Set(opts.hooks) : undefined;
  const hooks: HookComparison[] = [];
  const unmatched: RunComparison['unmatched'] = [];
  for (const s of a) {
    if (wanted && !wanted.has(s.name)) continue;
    const other = bBy.get(s.name);
    if (!other || !sameShape(other.shape, s.tensor.shape)) unmatched.push({ hook: s.name, a: s.tensor.shape, b: other?.shape });
    else hooks.push(compareTensors(s.name, s.tensor, other));
  }
  for (const s of b) if (!aNames.has(s.name) && (!wanted || wanted.has(s.name))) unmatched.push({ hook: s.name, b: s.tensor.shape });
  let topChanges: TokenChange[][] = [];
  if (sameShape(logitsA.shape, logitsB.shape)) {
    // The forward pass records its logits as a step too; compare them once, whatever `hooks` asks for.
    if (!hooks.some((h) => h.hook === 'logits')) hooks.push(compareTensors('logits', logitsA, logitsB));
    topChanges = Array.from({ length: logitsA.shape[1] }, (_, t) => probabilityChanges(logitsA, logitsB, t, opts.top ?? 5));
  } else if (!unmatched.some((u) => u.hook === 'logits')) {
    unmatched.push({ hook: 'logits', a: logitsA.shape, b: logitsB.shape });
  }
  return { hooks, unmatched, topChanges };
}

/** Run both sides and compare them hook by hook. */
export function compareRuns(a: { model: TransformerModel; input: ModelInput }, b: { model: TransformerModel; input: ModelInput }, opts: { hooks?: readonly string[]; top?: number } = {}): RunComparison {
  const ra = runTrace(a.model.forward(a.input));
  const rb = runTrace(b.model.forward(b.input));
  return compareSteps(ra.steps, rb.steps, ra.result, rb.result, opts);
}
