/** Activation patching identities on every family: patching everything is the clean run; the corrupted token alone restores it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { patchSetup, patchedRun, patchingGrid } from '../../engine/analyses/patching';
import { blockHooks, readoutSide, residPreHook } from '../../engine/analyses/model-view';
import type { ModelInput } from '../../engine/model/transformer';
import { logitRow } from '../../engine/analyses/metrics';
import { runPatch } from '../../engine/cli/patch';
import { isInspectorError } from '../../engine/errors';
import { loadModel } from '../../engine/model/load';
import { analysisCases } from './analyses-cases';

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

for (const c of analysisCases()) {
  const { model } = c.loaded;
  const decoderSide = !!model.decoder;
  const seq = (decoderSide ? c.input.decoderIds! : c.input.ids)[0];
  const T = seq.length;
  const p = T > 1 ? 1 : 0;
  const vocab = decoderSide ? model.spec.tgtVocabSize : model.spec.vocabSize;
  const swapped = (rows: number[][]) => rows.map((r, b) => (b === 0 ? r.map((id, t) => (t === p ? (id + 3) % vocab || 4 : id)) : r));
  const corrupted: ModelInput = decoderSide ? { ...c.input, decoderIds: swapped(c.input.decoderIds!) } : { ...c.input, ids: swapped(c.input.ids) };

  test(`${c.name}: patching the residual at every position of any layer gives the clean run; the grid is 0 … 1 where it must be`, () => {
    const setup = patchSetup(model, c.input, corrupted);
    const blocks = readoutSide(model).blocks;
    blocks.forEach((block, layer) => {
      const hook = residPreHook(block);
      const all = Array.from({ length: T }, (_, position) => ({ hook, position }));
      assert.deepEqual(patchedRun(setup, all, layer).data, setup.clean.logits.data, `every position of ${hook}`);
      assert.deepEqual(patchedRun(setup, [{ hook }], layer).data, setup.clean.logits.data, `the whole of ${hook}`);
    });
    const target = argmax(logitRow(setup.clean.logits, 0, T - 1));
    let versus = argmax(logitRow(setup.corrupted.logits, 0, T - 1));
    if (versus === target) versus = (target + 1) % vocab;
    let grid;
    try {
      grid = patchingGrid(setup, { target, versus, what: 'resid' });
    } catch (e) {
      assert.ok(isInspectorError(e) && /nothing to restore/.test(e.message));
      return;
    }
    assert.equal(grid.values.length, blocks.length);
    // Layer 0 at the corrupted position: the only place the two runs differ there, so it restores all of it.
    assert.equal(grid.values[0][p], 1);
    if (readoutSide(model).side.causal && p > 0) {
      // Earlier positions are the same in both runs: patching them changes nothing.
      for (let layer = 0; layer < blocks.length; layer++) assert.ok(grid.values[layer][0] === 0, `layer ${layer}: ${grid.values[layer][0]}`);
    }
    if (blockHooks(blocks[0]).z.length && setup.clean.steps.some((s) => s.name === blockHooks(blocks[0]).z[0])) {
      const heads = patchingGrid(setup, { target, versus, what: 'heads' });
      assert.equal(heads.values[0].length, setup.clean.steps.find((s) => s.name === blockHooks(blocks[0]).z[0])!.tensor.shape[2]);
      for (const row of heads.values) for (const v of row) assert.ok(Number.isFinite(v));
    }
    if (blockHooks(blocks[0]).mlpOut.length) {
      const mlp = patchingGrid(setup, { target, versus, what: 'mlp' });
      assert.equal(mlp.values[0].length, T);
    }
  });
}

test('patching refuses inputs of different lengths by name', () => {
  const c = analysisCases().find((x) => x.name === 'hf/gpt2')!;
  const shorter = { ids: [c.input.ids[0].slice(1)] };
  assert.throws(() => patchSetup(c.loaded.model, { ids: [c.input.ids[0]] }, shorter), (e: unknown) => isInspectorError(e) && /same length/.test(e.message));
});

test('patch CLI on tiny-llama: swapping God and Moses, the swapped position restores the clean answer at layer 0', () => {
  const dir = path.resolve(__dirname, '..', '..', 'examples', 'tiny-llama');
  const { tokenizer } = loadModel(dir);
  let text = '';
  const args = [dir, '--clean', 'And God said unto Moses', '--corrupted', 'And Moses said unto God', '--target', ' God', '--versus', ' Moses', '--json'];
  assert.equal(runPatch(args, (s) => (text += s)), 0);
  const j = JSON.parse(text) as { values: number[][]; clean_logit_diff: number; corrupted_logit_diff: number; hooks: string[] };
  const T = tokenizer!.encode('And God said unto Moses').ids.length;
  assert.equal(j.values.length, 3);
  assert.equal(j.values[0].length, T);
  assert.deepEqual(j.hooks, ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.2.hook_resid_pre']);
  assert.ok(j.values[0][0] === 0 && j.values[0][1] === 0); // <s> And: the same in both inputs
  assert.notEqual(j.clean_logit_diff, j.corrupted_logit_diff);
});
