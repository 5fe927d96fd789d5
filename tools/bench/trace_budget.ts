/**
 * The trace budget on a real-sized model (docs/performance.md, "Trace memory"): loads a checkpoint as the
 * engine worker does, steps through a long input's whole forward pass under the trace budget, then
 * serves hooks of an evicted layer (recomputed from its kept input residual), of the same layer again
 * (held), and kept residuals; prints each time, how many layers it recomputed, and the peak RSS.
 *
 *   npm run build && node --import tsx tools/bench/trace_budget.ts DIR [--tokens 2048] [--budget-mb MB] [--threads 2] [--weight-budget-mb N]
 *
 * `--weight-budget-mb` is a weight budget (past it, weights are streamed layer by layer); by default, as
 * in the engine worker, the weights are held whole when they fit beside the trace budget. `--budget-mb`
 * defaults to the automatic budget (engine/model/memory-budget.ts).
 */
import { parseArgs } from 'node:util';
import { defaultMemoryBudget } from '../../engine/model/memory-budget';
import { checkBudget, estimateTrace, formatMB } from '../../engine/worker/budget';
import { describeConfigFile, findConfig, loadModel } from '../../engine/model/load';
import { setKernelThreads } from '../../engine/kernels';
import { boundedForward } from '../../engine/trace/store';
import { Stepper } from '../../engine/trace/stepper';
import type { Step } from '../../engine/trace/step';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tokens: { type: 'string' },
    'budget-mb': { type: 'string' },
    threads: { type: 'string' },
    'weight-budget-mb': { type: 'string' },
  },
});
const dir = positionals[0];
if (!dir)
  throw new Error(
    'usage: trace_budget.ts DIR [--tokens N] [--budget-mb MB] [--threads N] [--weight-budget-mb MB]',
  );
const tokens = Number(values.tokens ?? 2048);
const budget = values['budget-mb'] !== undefined ? Number(values['budget-mb']) * 2 ** 20 : defaultMemoryBudget();
const threads = Number(values.threads ?? 2);
const weightBudget =
  values['weight-budget-mb'] !== undefined
    ? Number(values['weight-budget-mb']) * 2 ** 20
    : undefined;
setKernelThreads(threads);

const spec = describeConfigFile(findConfig(dir)).spec;
const est = estimateTrace(spec, tokens);
const mb = (b: number) => formatMB(b);
console.log(
  `model ${spec.family}: ${spec.numLayers} layers, d_model ${spec.dModel}, ${spec.numHeads} heads, vocab ${spec.vocabSize}; ${tokens} tokens, ${threads} threads`,
);
console.log(
  `estimate: whole trace ${mb(est.fullBytes)}; within the budget ${mb(est.bytes)} = kept ${mb(est.keptBytes)} + one layer ${mb(est.layerBytes)} (attention ${mb(est.attentionBytes)}), ×1.25; budget ${mb(budget)}`,
);

const rssGB = () => (process.resourceUsage().maxRSS * 1024) / 1e9;
const ids = Array.from({ length: tokens }, (_, i) => 1 + ((i * 7919) % (spec.vocabSize - 1)));
let t0 = performance.now();
// What the worker's Session does on load: the model (weights streamed past the weight budget), then the pass within the trace budget.
const loaded = loadModel(dir, { ...(weightBudget !== undefined && { memoryBudget: weightBudget }), activationBudget: budget });
checkBudget(loaded.spec, { ids }, budget);
const { trace, store } = boundedForward(loaded.model, { ids: [ids] }, budget);
const stepper = new Stepper(trace);
console.log(
  `load: ${((performance.now() - t0) / 1000).toFixed(1)} s${loaded.streaming ? ' (weights streamed layer by layer)' : ''}, peak RSS ${rssGB().toFixed(2)} GB`,
);

const timed = (label: string, go: () => Step | undefined) => {
  const before = store.layersRecomputed;
  t0 = performance.now();
  const step = go();
  void step?.tensor.data; // what the panel's view reads
  const ms = performance.now() - t0;
  const time = ms < 10_000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `${label}: ${step?.name} in ${time}, ${store.layersRecomputed - before} layer(s) recomputed; held ${mb(store.heldBytes)} (${store.residentLayers.length} layers), peak RSS ${rssGB().toFixed(2)} GB`,
  );
};
timed('forward to the end (every step computed once)', () => {
  while (stepper.next())
    if (stepper.current!.name.endsWith('hook_resid_pre'))
      process.stderr.write(`\r${stepper.current!.name}\x1b[K`);
  process.stderr.write('\r\x1b[K');
  return stepper.current;
});
const half = Math.floor(spec.numLayers / 2);
timed('a hook of an evicted layer (recomputed from its resid_pre)', () =>
  stepper.runTo('blocks.0.attn.hook_pattern'),
);
timed('the next step of that layer (held)', () => stepper.next());
timed(`a hook of layer ${half}`, () => stepper.runTo(`blocks.${half}.mlp.hook_post`));
timed('step back within it (held)', () => stepper.previous());
timed(
  'step back from a resid_pre to the resid_post before (one array, kept)',
  () => (stepper.runTo(`blocks.${half}.hook_resid_pre`), stepper.previous()),
);
timed('step back once more, into that evicted layer', () => stepper.previous());
timed('a kept input residual', () => stepper.runTo(`blocks.${spec.numLayers - 1}.hook_resid_pre`));
timed('the logits (kept)', () => stepper.runTo('logits'));
console.log(
  `peak RSS ${rssGB().toFixed(2)} GB; store peak ${mb(store.peakBytes)} within a budget of ${mb(budget)}`,
);
