// Records real engine output for the dev harness: examples/tiny-llama run by the engine's own
// Session on a KJV sentence; the model, the step list, and a few steps (the logits with their
// predictions, every attention pattern). Written to out/webview-dev/recorded.js as a global the fake
// host reads (typed arrays as plain lists). Not shipped.
//   node --import tsx scripts/record-webview-dev.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Session } from '../engine/worker/session';
import type { Loaded, Moved } from '../protocol/worker';
import type { StepInfo } from '../protocol/webview';

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
mkdirSync(out, { recursive: true });
const model = { ...loaded.model, configPath: '/work/examples/tiny-llama/config.json' };
writeFileSync(
  join(out, 'recorded.js'),
  `window.__TI_RECORDED__ = ${JSON.stringify({ model, steps: loaded.steps, recorded: steps, quant: { report, steps: quantSteps } })};\n`,
);
console.log(`recorded ${Object.keys(steps).length} steps of ${config}`);
