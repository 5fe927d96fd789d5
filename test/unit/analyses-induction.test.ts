/**
 * examples/induction: a two-layer attention-only model trained by tools/train_induction/train.py on random
 * spans followed by their copy. The detector finds its induction head, and ablating that head raises the
 * loss on the repeated half — to the numbers PyTorch computed for the same probe (training.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { detectHeads, detectorScores, layerPatterns, topHead } from '../../engine/analyses/heads';
import { ablate } from '../../engine/analyses/ablation';
import { meanLoss } from '../../engine/analyses/metrics';
import { runTrace } from '../../engine/trace/step';
import { runAblate } from '../../engine/cli/ablate';

const EXAMPLE = path.resolve(__dirname, '..', '..', 'examples', 'induction');

interface Training {
  probe: {
    ids: number[];
    span: number;
    induction_scores: number[][];
    previous_token_scores: number[][];
    induction_head: { layer: number; head: number; score: number };
    second_half_loss: number;
    second_half_loss_head_ablated: number;
    induction_heads: { layer: number; head: number }[];
    second_half_loss_induction_heads_ablated: number;
  };
}

const training = JSON.parse(fs.readFileSync(path.join(EXAMPLE, 'training.json'), 'utf8')) as Training;
const { probe } = training;
const loaded = loadModel(EXAMPLE);

test('the example is attention-only: every MLP output is exactly zero', () => {
  const { steps } = runTrace(loaded.model.forward({ ids: [probe.ids] }));
  const mlp = steps.filter((s) => s.name.endsWith('hook_mlp_out'));
  assert.equal(mlp.length, 2);
  for (const s of mlp) assert.ok(s.tensor.data.every((v) => v === 0), s.name);
});

test('the detector finds the induction head in layer 1, on the probe and on its own random sequence, with PyTorch’s scores', () => {
  const d = detectHeads(loaded.model, { input: { ids: [probe.ids] }, prefix: [0], exclude: [0] });
  // On the probe, as on the engine's own sequence, the induction queries are the second copy's.
  const patterns = layerPatterns(loaded.model, runTrace(loaded.model.forward({ ids: [probe.ids] })).steps);
  const induction = patterns.map((p) => detectorScores(p, probe.ids, 'induction', 1 + probe.span));
  const onProbe = topHead(induction);
  assert.deepEqual([onProbe.layer, onProbe.head], [probe.induction_head.layer, probe.induction_head.head]);
  assert.equal(onProbe.layer, 1, 'an induction head needs a layer before it');
  for (let l = 0; l < 2; l++) {
    for (let h = 0; h < 4; h++) {
      assert.ok(Math.abs(induction[l][h] - probe.induction_scores[l][h]) < 1e-4, `induction ${l}.${h}`);
      assert.ok(Math.abs(d.previous_token[l][h] - probe.previous_token_scores[l][h]) < 1e-4, `previous ${l}.${h}`);
    }
  }
  assert.ok(onProbe.score > 0.5, `score ${onProbe.score}`);
  // The engine's own repeated random sequence (another span, another length) finds the same heads.
  const onRandom = topHead(d.induction);
  assert.equal(onRandom.layer, 1);
  assert.ok(d.induction[onProbe.layer][onProbe.head] > 0.5, `score ${d.induction[onProbe.layer][onProbe.head]}`);
  const found = d.induction.flatMap((row, layer) => row.flatMap((s, head) => (s > 0.5 ? [{ layer, head }] : [])));
  assert.deepEqual(found, probe.induction_heads);
  // Layer 0 holds the previous-token heads the induction heads read through.
  assert.equal(topHead(d.previous_token).layer, 0);
});

test('ablating the induction head raises the loss on the repeated half (the numbers PyTorch computed)', () => {
  const { layer, head } = probe.induction_head;
  const n = probe.span;
  const ids = [probe.ids];
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(0.01, Math.abs(b));
  const r = ablate(loaded.model, { ids }, { heads: [{ layer, head }] });
  const before = meanLoss(r.baseline, ids, n + 1, 2 * n);
  const after = meanLoss(r.logits, ids, n + 1, 2 * n);
  assert.ok(close(before, probe.second_half_loss), `${before} vs ${probe.second_half_loss}`);
  assert.ok(close(after, probe.second_half_loss_head_ablated), `${after} vs ${probe.second_half_loss_head_ablated}`);
  assert.ok(before < 0.05, `the model completes the copy: ${before} nats`);
  assert.ok(after > 3 * before, `one induction head ablated: ${before} → ${after} nats (the other induction heads make up for most of it)`);
  // All the induction heads at once: the copy becomes as unpredictable as random tokens.
  const all = ablate(loaded.model, { ids }, { heads: probe.induction_heads });
  const allAfter = meanLoss(all.logits, ids, n + 1, 2 * n);
  assert.ok(close(allAfter, probe.second_half_loss_induction_heads_ablated), `${allAfter} vs ${probe.second_half_loss_induction_heads_ablated}`);
  assert.ok(allAfter > before + 2, `every induction head ablated: ${before} → ${allAfter} nats`);
  // The first half is random: nothing to predict, and the head hardly matters there.
  const firstHalf = meanLoss(r.baseline, ids, 1, n);
  assert.ok(firstHalf > 3, `first half ${firstHalf} nats (ln 63 = 4.14)`);
});

test('ablate CLI: --loss-positions reports the repeated half’s loss, the same numbers', () => {
  const n = probe.span;
  let text = '';
  const { layer, head } = probe.induction_head;
  const args = [EXAMPLE, '--ids', probe.ids.join(','), '--heads', `${layer}.${head}`, '--loss-positions', `${n + 1}:${2 * n}`, '--json'];
  assert.equal(runAblate(args, (s) => (text += s)), 0);
  const j = JSON.parse(text) as { first_layer: number; loss: { before: number; after: number } };
  assert.equal(j.first_layer, 1);
  assert.ok(Math.abs(j.loss.before - probe.second_half_loss) <= 1e-4 * 0.01 + 1e-6);
  assert.ok(Math.abs(j.loss.after - probe.second_half_loss_head_ablated) <= 1e-4 * probe.second_half_loss_head_ablated + 1e-6);
});
