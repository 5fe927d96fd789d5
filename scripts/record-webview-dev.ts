// Records real engine output for the dev harness: examples/tiny-llama run by the engine's own
// Session on a KJV sentence; the model, the step list, and a few steps (the logits with their
// predictions, every attention pattern). Written to out/webview-dev/recorded.js as a global the fake
// host reads (typed arrays as plain lists). Not shipped.
//   node --import tsx scripts/record-webview-dev.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Session } from '../engine/worker/session';
import type { Comparison, Loaded, Moved } from '../protocol/worker';
import type { StepInfo } from '../protocol/webview';
import type { AnalysisReply, AnalysisRequest } from '../protocol/analyses';

const out = 'out/webview-dev';
const config = resolve('examples/tiny-llama/config.json');
const text =
  process.env.TI_RECORD_TEXT ??
  'And God said, Let there be light: and there was light. And God saw the light, that it was good: and God divided the light from the darkness.';
const control = { cancelled: () => false, progress: () => {} };

const session = new Session();
const loaded = session.load(config, { text }, 'auto', control) as Loaded;
const plain = (step: StepInfo) => {
  const view = step.view;
  return {
    ...step,
    view: {
      ...view,
      data: Array.from(view.data, (v) => (Number.isFinite(v) ? +v.toPrecision(5) : v)),
      ...(view.kind === 'attention' && view.mask ? { mask: Array.from(view.mask) } : {}),
    },
  };
};
const wanted = loaded.steps
  .map((s, i) => ({ s, i }))
  .filter(({ s }) => s.name === 'logits' || s.name.endsWith('.hook_pattern'));
const steps: Record<number, unknown> = {};
for (const { i } of wanted) {
  const moved = session.move({ to: 'index', index: i }, control) as Moved;
  if (moved.position.kind === 'step') steps[i] = plain(moved.position.step);
}
// The Quantization tab (scenario llama-quant): GPTQ 4-bit g32 on the bundled sample, each recorded step compared.
const report = session.quantize({ method: 'gptq', bits: 4, group: 32, calibration: { kind: 'sample' } }, control);
const plainView = (v: { data: Float32Array }) => ({ ...v, data: Array.from(v.data, (x) => +x.toPrecision(5)) });
const quantSteps: Record<number, unknown> = {};
for (const { i } of wanted) {
  session.move({ to: 'index', index: i }, control);
  const q = session.quantStep(0);
  quantSteps[i] = { ...q, fp: plainView(q.fp), quantized: plainView(q.quantized), diff: plainView(q.diff) };
}
// The analyses of the Analyses tab, on the same input (typed arrays as { typed, data } lists).
const ids = loaded.model.ids;
const ask = (request: AnalysisRequest) => (session.handle({ kind: 'analyse', request }, control).reply as AnalysisReply);
const lens = ask({ analysis: 'lens', top: 5 });
const lensView = lens.view as Extract<AnalysisReply['view'], { analysis: 'lens' }>;
const last = lensView.hooks.length - 1;
const top = lensView.topIds[(last * lensView.positions + lensView.positions - 1) * lensView.k];
const second = lensView.topIds[(last * lensView.positions + lensView.positions - 1) * lensView.k + 1];
// The corrupted input: the same sentence with "light" and "darkness" swapped where they fit one token.
const corrupted = ids.map((id, i) => (i === 9 ? ids[3] : id));
const requests: AnalysisRequest[] = [
  { analysis: 'lens', top: 5 },
  { analysis: 'attribution', target: top, versus: second },
  { analysis: 'heads' },
  { analysis: 'ablation', heads: [{ layer: 2, head: 1 }], mode: 'zero', top: 5 },
  { analysis: 'patching', corrupted, target: top, versus: second, what: 'resid' },
];
const typed = (_: string, v: unknown) =>
  ArrayBuffer.isView(v) && !(v instanceof DataView) ? { typed: v.constructor.name, data: Array.from(v as Float32Array, (x) => +x.toPrecision(6)) } : v;
// Compare With…: the same sentence with its 10th token changed, at the last layer's pattern.
const { kind: _kind, ...comparison } = session.handle({ kind: 'compare', input: { ids: corrupted }, hook: 'blocks.2.attn.hook_pattern' }, control).reply as Comparison;
const analyses = requests.map((request) => ({ request, reply: request.analysis === 'lens' ? lens : ask(request) }));
// Compare With… the quantized copy (scenario llama-compare-models), at the same pattern.
const { kind: _k2, ...modelComparison } = session.handle({ kind: 'compareModel', with: { quantized: true }, hook: 'blocks.2.attn.hook_pattern' }, control).reply as Comparison;
// The patching cell layer 1 × position 9 opened as its patched run (the panel's click on that cell).
const patchedMoved = session.handle({ kind: 'patchedStep', corrupted, what: 'resid', layer: 1, col: 9 }, control).reply as Moved;
const patchedStep = patchedMoved.position.kind === 'step' ? patchedMoved.position.step : undefined;
session.handle({ kind: 'unpatch' }, control);
mkdirSync(out, { recursive: true });
const model = { ...loaded.model, configPath: '/work/examples/tiny-llama/config.json' };
writeFileSync(
  join(out, 'recorded.js'),
  `window.__TI_RECORDED__ = ${JSON.stringify({ model, steps: loaded.steps, recorded: steps, quant: { report, steps: quantSteps }, analyses, comparison, modelComparison, patchedStep }, typed)};\n`,
);
console.log(`recorded ${Object.keys(steps).length} steps of ${config}`);
