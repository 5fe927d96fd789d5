/** The logit lens: exact at the last layer for every family; the final norm's statistics are per residual. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runTrace } from '../../engine/trace/step';
import { lensLogits, logitLens } from '../../engine/analyses/lens';
import { readout, residualHooks } from '../../engine/analyses/model-view';
import { loadModel } from '../../engine/model/load';
import { runLens } from '../../engine/cli/lens';
import { Tensor } from '../../engine/tensor';
import { analysisCases, maxRelDiff } from './analyses-cases';

const TINY_LLAMA = path.resolve(__dirname, '..', '..', 'examples', 'tiny-llama');

for (const c of analysisCases()) {
  test(`${c.name}: the lens has one entry per block plus the embeddings, and its last entry is the logits bit for bit`, () => {
    const { model } = c.loaded;
    const { steps, result } = runTrace(model.forward(c.input));
    const lens = lensLogits(model, steps);
    const side = model.decoder ?? model.main;
    assert.equal(lens.length, side.stack.blocks.length + 1);
    assert.deepEqual(lens.at(-1)!.logits.data, result.data);
    // Entry 0 reads the embeddings: the same readout applied to the recorded resid_pre of block 0.
    const embed = steps.find((s) => s.name === residualHooks(model)[0])!.tensor;
    assert.deepEqual(lens[0].logits.data, readout(model, embed).data);
  });
}

test('the final norm’s statistics are recomputed for each residual: scaling a residual leaves its lens unchanged', () => {
  const { model } = loadModel(TINY_LLAMA);
  const ids = [[0, 65, 72, 300, 12, 99, 7]];
  const { steps } = runTrace(model.forward({ ids }));
  const resid = steps.find((s) => s.name === 'blocks.0.hook_resid_post')!.tensor;
  const scaled = new Tensor(resid.shape, resid.data.map((v) => v * 4)); // a power of two: exact in fp32
  // Only eps (1e-5 against a mean square of about 1.7) tells them apart.
  assert.ok(maxRelDiff(readout(model, scaled).data, readout(model, resid).data) < 1e-4);
  // Reusing the last layer's RMS scale instead (the bug TransformerLens PR #1077 fixed) gives other logits.
  const lens = lensLogits(model, steps);
  assert.ok(maxRelDiff(lens[1].logits.data, lens[3].logits.data) > 0.1);
});

test('lens: top-k sorted, probabilities of a softmax, the target’s rank counts the larger logits', () => {
  const { model } = loadModel(TINY_LLAMA);
  const ids = [[0, 65, 72, 300, 12]];
  const { layers, logits } = logitLens(model, { ids }, { top: 4, target: 300 });
  const V = logits.shape[2];
  const last = layers.at(-1)!;
  for (const [t, p] of last.positions.entries()) {
    const row = logits.data.subarray(t * V, (t + 1) * V);
    const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
    assert.deepEqual(p.top.map((x) => x.id), order.slice(0, 4));
    for (let i = 1; i < 4; i++) assert.ok(p.top[i - 1].prob >= p.top[i].prob);
    assert.equal(p.target!.rank, order.indexOf(300));
    const max = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - max), 0);
    assert.ok(Math.abs(p.target!.prob - Math.exp(row[300] - max) / z) < 1e-9);
  }
});

test('lens CLI: JSON with the embeddings first and one entry per block after', () => {
  let text = '';
  const code = runLens([TINY_LLAMA, '--text', 'And God said', '--target', ' unto', '--top', '3', '--json'], (s) => (text += s));
  assert.equal(code, 0);
  const json = JSON.parse(text) as { layers: { layer: number; positions: { top: { id: number; token: string; prob: number }[]; target: { rank: number } }[] }[] };
  assert.equal(json.layers.length, 4);
  assert.deepEqual(json.layers.map((l) => l.layer), [0, 1, 2, 3]);
  const T = json.layers[0].positions.length;
  assert.equal(T, 4); // <s> And ␣God ␣said
  for (const l of json.layers) {
    for (const p of l.positions) {
      assert.equal(p.top.length, 3);
      assert.equal(typeof p.top[0].token, 'string');
    }
  }
  // After “And God said” the model's own top prediction is “ unto” (examples/tiny-llama/README.md).
  const lastPos = json.layers[3].positions[T - 1];
  assert.equal(lastPos.top[0].token, ' unto');
  assert.equal(lastPos.target.rank, 0);
});
