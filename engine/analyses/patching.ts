import type { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import type { ModelInput, TransformerModel } from '../model/transformer';
import { runTrace, type Step } from '../trace/step';
import { blockHooks, checkLayer, readoutSide, residPreHook } from './model-view';
import { rerunFrom } from './ablation';
import { checkToken, logitDifference } from './metrics';

/**
 * Activation patching (causal tracing): run a clean and a corrupted input of the same length, then rerun the
 * corrupted one with one activation taken from the clean run — the residual stream entering a layer at one
 * position, one head's output (its `hook_z` slice, every position), or an MLP's output at one position —
 * and measure how much of the clean behaviour comes back: the logit difference target − versus at the last
 * position, normalised to 0 for the corrupted run and 1 for the clean one.
 */
export type { PatchWhat } from '../../protocol/analyses';
import type { PatchWhat } from '../../protocol/analyses';

/** Replace `hook` in the corrupted run by the clean run's tensor: the whole of it, one position, or one head. */
export interface Patch {
  hook: string;
  position?: number;
  head?: number;
}

export interface PatchingOptions {
  target: number;
  versus: number;
  what?: PatchWhat;
  /** Where the metric is read (the last position by default). */
  position?: number;
}

export interface PatchingResult {
  what: PatchWhat;
  /** values[layer][position or head]: the normalised metric, 0 = corrupted, 1 = clean. */
  values: number[][];
  /** The raw logit differences of the patched runs, same layout. */
  logitDiffs: number[][];
  clean: number;
  corrupted: number;
  /** The hook patched in each row. */
  hooks: string[];
}

export interface PatchSetup {
  model: TransformerModel;
  clean: { input: ModelInput; steps: Step[]; logits: Tensor };
  corrupted: { input: ModelInput; steps: Step[]; logits: Tensor };
}

export function patchSetup(model: TransformerModel, clean: ModelInput, corrupted: ModelInput): PatchSetup {
  const a = (clean.decoderIds ?? clean.ids).map((r) => r.length);
  const b = (corrupted.decoderIds ?? corrupted.ids).map((r) => r.length);
  if (a.length !== b.length || a.some((n, i) => n !== b[i]) || clean.ids[0].length !== corrupted.ids[0].length) {
    throw new InspectorError(`patching needs clean and corrupted inputs of the same length (clean ${a.join(', ')} tokens, corrupted ${b.join(', ')})`);
  }
  const c = runTrace(model.forward(clean));
  const k = runTrace(model.forward(corrupted));
  return { model, clean: { input: clean, steps: c.steps, logits: c.result }, corrupted: { input: corrupted, steps: k.steps, logits: k.result } };
}

/** The corrupted run with these activations from the clean run, rerun from the first patched layer. */
export function patchedRun(setup: PatchSetup, patches: readonly Patch[], firstLayer: number): Tensor {
  const cleanBy = new Map(setup.clean.steps.map((s) => [s.name, s.tensor]));
  const byHook = new Map<string, Patch[]>();
  for (const p of patches) {
    if (!cleanBy.has(p.hook)) throw new InspectorError(`the clean run recorded no '${p.hook}'`);
    byHook.set(p.hook, [...(byHook.get(p.hook) ?? []), p]);
  }
  const run = rerunFrom(setup.model, setup.corrupted.input, setup.corrupted.steps, firstLayer, (s) => {
    const ps = byHook.get(s.name);
    return ps ? patchTensor(s.tensor, cleanBy.get(s.name)!, ps) : undefined;
  });
  const missing = [...byHook.keys()].filter((n) => !run.replaced.includes(n));
  if (missing.length) throw new Error(`patched hooks never fired: ${missing.join(', ')}`);
  return run.result;
}

/** corrupted [B, T, …] with the patches' slices copied from clean: positions on axis 1, heads on axis 2. */
export function patchTensor(corrupted: Tensor, clean: Tensor, patches: readonly Patch[]): Tensor {
  const out = corrupted.clone();
  const [B, T] = corrupted.shape as [number, number];
  const row = corrupted.size / (B * T);
  for (const p of patches) {
    if (p.position === undefined && p.head === undefined) {
      out.data.set(clean.data);
      continue;
    }
    const dh = p.head !== undefined ? corrupted.shape[3] : row;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        if (p.position !== undefined && t !== p.position) continue;
        const off = (b * T + t) * row + (p.head !== undefined ? p.head * dh : 0);
        out.data.set(clean.data.subarray(off, off + dh), off);
      }
    }
  }
  return out;
}

export function activationPatching(model: TransformerModel, clean: ModelInput, corrupted: ModelInput, opts: PatchingOptions): PatchingResult {
  const setup = patchSetup(model, clean, corrupted);
  return patchingGrid(setup, opts);
}

export function patchingGrid(setup: PatchSetup, opts: PatchingOptions): PatchingResult {
  const what = opts.what ?? 'resid';
  const { model } = setup;
  const [, T, V] = setup.clean.logits.shape as [number, number, number];
  const target = checkToken(opts.target, V, 'patching target');
  const versus = checkToken(opts.versus, V, 'patching versus');
  const at = opts.position ?? T - 1;
  if (!Number.isInteger(at) || at < 0 || at >= T) throw new InspectorError(`patching: position ${at} is outside the input (0 … ${T - 1})`);
  const metric = (logits: Tensor) => logitDifference(logits, 0, at, target, versus);
  const clean = metric(setup.clean.logits);
  const corrupted = metric(setup.corrupted.logits);
  if (clean === corrupted) throw new InspectorError('the clean and corrupted runs give the same logit difference: there is nothing to restore');
  const blocks = readoutSide(model).blocks;
  const values: number[][] = [];
  const logitDiffs: number[][] = [];
  const hooks: string[] = [];
  blocks.forEach((block, layer) => {
    checkLayer(model, layer, 'patching');
    let hook: string;
    let patches: Patch[];
    if (what === 'resid') {
      hook = residPreHook(block);
      patches = Array.from({ length: T }, (_, position) => ({ hook, position }));
    } else if (what === 'mlp') {
      const mlp = blockHooks(block).mlpOut[0];
      if (!mlp) throw new InspectorError(`${block.path} has no MLP to patch`);
      hook = mlp;
      patches = Array.from({ length: T }, (_, position) => ({ hook, position }));
    } else {
      const z = blockHooks(block).z[0];
      const zt = z && setup.clean.steps.find((s) => s.name === z)?.tensor;
      if (!zt) throw new InspectorError(`${block.path}: no per-head output (hook_z) to patch`);
      hook = z;
      patches = Array.from({ length: zt.shape[2] }, (_, head) => ({ hook, head }));
    }
    hooks.push(hook);
    const diffs = patches.map((p) => metric(patchedRun(setup, [p], layer)));
    logitDiffs.push(diffs);
    values.push(diffs.map((d) => (d - corrupted) / (clean - corrupted)));
  });
  return { what, values, logitDiffs, clean, corrupted, hooks };
}
