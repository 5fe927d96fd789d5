import { InspectorError } from '../errors';
import type { Tensor } from '../tensor';
import type { LoadedModel } from '../model/load';
import { runTrace, type Step, type Trace } from '../trace/step';
import { blockHooks, checkLayer, residPreHook } from '../analyses/model-view';
import { patchTensor, type Patch, type PatchWhat } from '../analyses/patching';
import type { InputIds } from '../../protocol/worker';
import type { PatchedRunLabel } from '../../protocol/webview';

/**
 * A patching cell opened in the Step tab: the corrupted input's forward pass with that one activation of
 * the clean run put in its place — the residual entering layer `layer` at one position, one head's
 * `hook_z` slice, or the MLP's output at one position, exactly as activation patching computes the cell
 * (engine/analyses/patching.ts) — walked step by step like any pass.
 */
export interface PatchedRun {
  /** The corrupted input the patched pass runs on. */
  input: InputIds;
  label: PatchedRunLabel;
  /** A fresh patched pass (the stepper walks it lazily). */
  trace(): Trace;
}

/** The patch a cell of the patching grid stands for: row `layer`, column a position (resid, mlp) or a head. */
export function cellPatch(loaded: LoadedModel, cleanSteps: readonly Step[], what: PatchWhat, layer: number, col: number): Patch {
  const block = checkLayer(loaded.model, layer, 'patched run');
  const T = cleanSteps.find((s) => s.name === residPreHook(block))?.tensor.shape[1] ?? 0;
  const position = (hook: string): Patch => {
    if (!Number.isInteger(col) || col < 0 || col >= T) throw new InspectorError(`patched run: position ${col} is outside the input (0 … ${T - 1})`);
    return { hook, position: col };
  };
  if (what === 'resid') return position(residPreHook(block));
  if (what === 'mlp') {
    const mlp = blockHooks(block).mlpOut[0];
    if (!mlp) throw new InspectorError(`${block.path} has no MLP to patch`);
    return position(mlp);
  }
  const z = blockHooks(block).z[0];
  const heads = z && cleanSteps.find((s) => s.name === z)?.tensor.shape[2];
  if (!z || !heads) throw new InspectorError(`${block.path}: no per-head output (hook_z) to patch`);
  if (!Number.isInteger(col) || col < 0 || col >= heads) throw new InspectorError(`patched run: layer ${layer} has heads 0 … ${heads - 1}, not ${col}`);
  return { hook: z, head: col };
}

/** A pass with `patch` applied where its hook fires: the step shows, and the pass continues with, the patched tensor. */
export function* patchedTrace(trace: Trace, clean: Tensor, patch: Patch): Trace {
  let answer: Tensor | undefined;
  for (;;) {
    const r = trace.next(answer);
    if (r.done) return r.value;
    const step = r.value;
    const replaced = step.name === patch.hook ? patchTensor(step.tensor, clean, [patch]) : undefined;
    const back = yield replaced ? { ...step, tensor: replaced } : step;
    answer = back ?? replaced;
  }
}

/** The patched run of one cell: `clean` is the input the inspector shows, `corrupted` the patching view's other input. */
export function patchedRun(loaded: LoadedModel, clean: InputIds, corrupted: number[], what: PatchWhat, layer: number, col: number): PatchedRun {
  const { model } = loaded;
  if (model.decoder) throw new InspectorError('patching from the inspector runs single-stack models');
  if (corrupted.length !== clean.ids.length) {
    throw new InspectorError(`patching needs clean and corrupted inputs of the same length (clean ${clean.ids.length} tokens, corrupted ${corrupted.length})`);
  }
  const cleanSteps = runTrace(model.forward({ ids: [clean.ids] })).steps;
  const patch = cellPatch(loaded, cleanSteps, what, layer, col);
  const source = cleanSteps.find((s) => s.name === patch.hook)!.tensor;
  const at = patch.head !== undefined ? `head ${patch.head}` : `position ${patch.position}`;
  const label: PatchedRunLabel = {
    what,
    layer,
    hook: patch.hook,
    ...(patch.position !== undefined && { position: patch.position }),
    ...(patch.head !== undefined && { head: patch.head }),
    description: `the corrupted input with ${patch.hook} at ${at} from the clean run`,
  };
  const input = { ids: [...corrupted] };
  return { input, label, trace: () => patchedTrace(model.forward({ ids: [input.ids] }), source, patch) };
}
