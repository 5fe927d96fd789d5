import { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import type { ModelInput, TransformerModel } from '../model/transformer';
import { runTrace, type Step } from '../trace/step';
import { byName, runIntervened, type Intervention } from '../trace/intervene';
import { blockHooks, checkLayer, readoutSide, residPreHook } from './model-view';
import { logitRow, meanLoss, topK, type TokenProb } from './metrics';

/**
 * Ablation: remove heads, MLPs or whole layers and rerun. A head is removed by replacing its slice of
 * `attn.hook_z` (what the output projection reads), an MLP by replacing `hook_mlp_out`, a layer by
 * replacing every sublayer's output; `zero` puts zeros there, `mean` the mean over the input's positions
 * (and sequences). A single-stack model reruns only from the first changed layer, resuming with the
 * recorded residual there; an encoder-decoder model reruns whole.
 */
export interface AblationSpec {
  heads?: { layer: number; head: number }[];
  mlps?: number[];
  layers?: number[];
  mode?: 'zero' | 'mean';
}

export interface AblationResult {
  /** The block the rerun started from. */
  firstLayer: number;
  /** The hooks that were replaced. */
  replaced: string[];
  baseline: Tensor;
  logits: Tensor;
  /** max and mean |Δ logit| over every position and id. */
  maxAbsDelta: number;
  meanAbsDelta: number;
  /** Mean next-token cross-entropy before and after (causal models with ≥ 2 tokens; over `lossPositions` if given). */
  loss?: { before: number; after: number; delta: number };
  /** Per position of sequence 0: the top-k before and after. */
  top: { position: number; before: TokenProb[]; after: TokenProb[] }[];
}

/** The hook replacements of an ablation, from the clean pass's steps (for the means). */
export function ablationEdits(model: TransformerModel, steps: readonly Step[], spec: AblationSpec): { edits: Map<string, (t: Tensor) => Tensor>; firstLayer: number } {
  const mode = spec.mode ?? 'zero';
  const byName = new Map(steps.map((s) => [s.name, s.tensor]));
  const edits = new Map<string, (t: Tensor) => Tensor>();
  const heads = new Map<string, Set<number>>();
  let first = Infinity;
  const whole = (name: string) => {
    const clean = byName.get(name);
    if (!clean) throw new InspectorError(`the forward pass recorded no '${name}'`);
    const fill = mode === 'zero' ? new Tensor(clean.shape) : positionMean(clean);
    edits.set(name, () => fill);
  };
  for (const { layer, head } of spec.heads ?? []) {
    const block = checkLayer(model, layer, 'ablate head');
    const z = blockHooks(block).z[0];
    const t = z && byName.get(z);
    if (!t) throw new InspectorError(`${block.path}: no per-head output (hook_z) to ablate a head in`);
    const H = t.shape[2];
    if (!Number.isInteger(head) || head < 0 || head >= H) throw new InspectorError(`ablate head: layer ${layer} has heads 0 … ${H - 1}, not ${head}`);
    if (!heads.has(z)) heads.set(z, new Set());
    heads.get(z)!.add(head);
    first = Math.min(first, layer);
  }
  for (const [z, set] of heads) {
    const clean = byName.get(z)!;
    const means = mode === 'mean' ? positionMean(clean) : undefined;
    edits.set(z, (t) => replaceHeads(t, set, means));
  }
  for (const layer of spec.mlps ?? []) {
    const hooks = blockHooks(checkLayer(model, layer, 'ablate MLP')).mlpOut;
    if (hooks.length === 0) throw new InspectorError(`layer ${layer} has no MLP`);
    hooks.forEach(whole);
    first = Math.min(first, layer);
  }
  for (const layer of spec.layers ?? []) {
    const h = blockHooks(checkLayer(model, layer, 'ablate layer'));
    [...h.attnOut, ...h.mlpOut].forEach(whole);
    first = Math.min(first, layer);
  }
  const blocks = readoutSide(model).blocks.length;
  return { edits, firstLayer: first === Infinity ? blocks - 1 : first };
}

/** Rerun a pass with replacements, from block `firstLayer` where the model allows it. */
export function rerunFrom(model: TransformerModel, input: ModelInput, steps: readonly Step[], firstLayer: number, intervene: Intervention) {
  if (model.decoder) return runIntervened(model.forward(input), intervene);
  const block = readoutSide(model).blocks[firstLayer];
  const residPre = steps.find((s) => s.name === residPreHook(block))?.tensor;
  if (!residPre) throw new InspectorError(`the forward pass recorded no '${residPreHook(block)}'`);
  return runIntervened(model.forward({ ...input, resume: { layer: firstLayer, residPre } }), intervene);
}

export interface AblateOptions {
  top?: number;
  /** The loss over the predictions made at positions [from, to) only (e.g. the repeated half of a sequence). */
  lossPositions?: [number, number];
}

export function ablate(model: TransformerModel, input: ModelInput, spec: AblationSpec, opts: AblateOptions = {}): AblationResult {
  const clean = runTrace(model.forward(input));
  const { edits, firstLayer } = ablationEdits(model, clean.steps, spec);
  const run = rerunFrom(model, input, clean.steps, firstLayer, byName(edits));
  const missing = [...edits.keys()].filter((n) => !run.replaced.includes(n));
  if (missing.length) throw new Error(`ablation hooks never fired: ${missing.join(', ')}`);
  const baseline = clean.result;
  const logits = run.result;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < logits.size; i++) {
    const d = Math.abs(logits.data[i] - baseline.data[i]);
    max = Math.max(max, d);
    sum += d;
  }
  const ids = input.decoderIds ?? input.ids;
  const causal = readoutSide(model).side.causal;
  const loss = causal && ids[0].length >= 2 ? lossDelta(baseline, logits, ids, opts.lossPositions) : undefined;
  const k = opts.top ?? 5;
  const T = logits.shape[1];
  const top = Array.from({ length: T }, (_, t) => ({ position: t, before: topK(logitRow(baseline, 0, t), k), after: topK(logitRow(logits, 0, t), k) }));
  return { firstLayer, replaced: run.replaced, baseline, logits, maxAbsDelta: max, meanAbsDelta: sum / logits.size, loss, top };
}

function lossDelta(before: Tensor, after: Tensor, ids: number[][], range: [number, number] = [0, Infinity]) {
  const b = meanLoss(before, ids, range[0], range[1]);
  const a = meanLoss(after, ids, range[0], range[1]);
  return { before: b, after: a, delta: a - b };
}

/** The mean over sequences and positions, broadcast back: [B, T, …] → every (b, t) row = the mean row. */
export function positionMean(t: Tensor): Tensor {
  const rows = t.shape[0] * t.shape[1];
  const n = t.size / rows;
  const mean = new Float64Array(n);
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) mean[j] += t.data[r * n + j];
  const out = new Tensor(t.shape);
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) out.data[r * n + j] = mean[j] / rows;
  return out;
}

/** z [B, T, H, d_head] with the chosen heads' slices replaced by zeros or by `means` (same shape). */
function replaceHeads(z: Tensor, heads: ReadonlySet<number>, means?: Tensor): Tensor {
  const [B, T, H, dh] = z.shape as [number, number, number, number];
  const out = z.clone();
  for (let r = 0; r < B * T; r++) {
    for (const h of heads) {
      const off = (r * H + h) * dh;
      for (let j = 0; j < dh; j++) out.data[off + j] = means ? means.data[off + j] : 0;
    }
  }
  return out;
}

/** Parse `2.1,3.0` (layer.head pairs). */
export function parseHeadList(text: string, what = '--heads'): { layer: number; head: number }[] {
  return text.split(',').map((s) => {
    const m = /^\s*(\d+)\.(\d+)\s*$/.exec(s);
    if (!m) throw new InspectorError(`${what}: '${s}' is not LAYER.HEAD (e.g. 2.1)`);
    return { layer: Number(m[1]), head: Number(m[2]) };
  });
}
