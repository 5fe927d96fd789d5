/**
 * Child process of test/unit/streaming.test.ts: load DIR (streamed when BUDGET bytes is given), run one
 * forward pass, print JSON with the peak RSS (and ArrayBuffer bytes) above those before loading, the bytes of the recorded
 * activations, a hash of every step's bytes, and the streaming source's own accounting.
 */
import { createHash } from 'node:crypto';
import { loadModel } from '../../engine/model/load';
import type { Step } from '../../engine/trace/step';

const [dir, budgetArg, idsArg] = process.argv.slice(2);
const ids = [idsArg.split(',').map(Number)];
const start = process.memoryUsage();
let peak = start.rss;
let peakBuffers = start.arrayBuffers;
const sample = () => {
  const m = process.memoryUsage();
  peak = Math.max(peak, m.rss);
  peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
};
const loaded = loadModel(dir, budgetArg === 'none' ? {} : { memoryBudget: Number(budgetArg) });
sample();
const trace = loaded.model.forward({ ids });
const steps: Step[] = [];
for (let r = trace.next(); !r.done; r = trace.next()) {
  steps.push(r.value);
  sample();
}
const hash = createHash('sha256');
let activations = 0;
for (const s of steps) {
  hash.update(s.name);
  hash.update(new Uint8Array(s.tensor.data.buffer, s.tensor.data.byteOffset, s.tensor.data.byteLength));
  activations += s.tensor.data.byteLength;
}
process.stdout.write(
  JSON.stringify({
    peakRss: peak - start.rss,
    peakArrayBuffers: peakBuffers - start.arrayBuffers,
    activations,
    hash: hash.digest('hex'),
    steps: steps.length,
    streamed: loaded.streaming ? { peakBytes: loaded.streaming.peakBytes, reads: loaded.streaming.reads, weightBytes: loaded.streaming.weightBytes() } : null,
  }),
);
