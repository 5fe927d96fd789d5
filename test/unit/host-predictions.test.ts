import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Tensor } from '../../engine/tensor';
import { nextTokenTargets, predictionsView, topIds } from '../../engine/worker/predictions';
import { Session } from '../../engine/worker/session';
import type { Loaded, Moved } from '../../protocol/worker';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { topPredictions } from '../../engine/cli/forward';

const TINY_LLAMA = resolve(__dirname, '..', '..', 'examples', 'tiny-llama', 'config.json');
const NO_CONTROL = { cancelled: () => false, progress: () => {} };

test('topIds returns the k largest ids, largest first, for any order of the row', () => {
  const row = [0.5, 3, -1, 7, 3.5, 2, 9, 0];
  assert.deepEqual(topIds(row, 3), [6, 3, 4]);
  assert.deepEqual(topIds(row, 1), [6]);
  assert.deepEqual(topIds(row, 20), [6, 3, 4, 1, 5, 0, 7, 2]);
  assert.deepEqual(topIds([...row].reverse(), 2), [1, 4]);
});

test('predictionsView: softmax, rank and loss of the next token, mean loss over scored positions', () => {
  // [batch 1, pos 2, d_vocab 3]; the next token after position 0 is id 2.
  const logits = Tensor.fromArray([1, 2, 3], [1, 2, 3, 0, 0, 0]);
  const p = predictionsView(logits, (id) => `t${id}`, nextTokenTargets([0, 2]), 2);
  const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
  assert.equal(p.k, 2);
  assert.equal(p.vocab, 3);
  assert.deepEqual(p.positions[0].top.map((x) => x.id), [2, 1]);
  assert.equal(p.positions[0].top[0].token, 't2');
  assert.ok(Math.abs(p.positions[0].top[0].prob - Math.exp(3) / z) < 1e-12);
  assert.equal(p.positions[0].top[1].logit, 2);
  const next = p.positions[0].next!;
  assert.equal(next.id, 2);
  assert.equal(next.rank, 1);
  assert.ok(Math.abs(next.loss + Math.log(Math.exp(3) / z)) < 1e-12);
  assert.equal(p.positions[1].next, undefined, 'nothing follows the last position');
  assert.ok(Math.abs(p.positions[1].top[0].prob - 1 / 3) < 1e-12);
  assert.equal(p.scored, 1);
  assert.ok(Math.abs(p.meanLoss! - next.loss) < 1e-12);
});

test('rank counts the tokens more likely than the target', () => {
  const logits = Tensor.fromArray([1, 2, 4], [4, 1, 3, 2, 0, 0, 0, 0]);
  const p = predictionsView(logits, String, [1], 4);
  assert.equal(p.positions[0].next!.rank, 4);
  assert.ok(Math.abs(p.positions[0].next!.prob - Math.exp(1) / (Math.exp(4) + Math.exp(1) + Math.exp(3) + Math.exp(2))) < 1e-12);
});

test('tiny-llama: the logits step predicts “ unto” after “And God said”, as the CLI does', () => {
  const s = new Session();
  const loaded = s.load(TINY_LLAMA, { text: 'And God said' }, 'auto', NO_CONTROL) as Loaded;
  const moved = s.move({ to: 'hook', name: 'logits' }, NO_CONTROL) as Moved;
  assert.equal(moved.position.kind, 'step');
  if (moved.position.kind !== 'step') return;
  const step = moved.position.step;
  const p = step.predictions!;
  assert.ok(p, 'the logits step carries predictions');
  const last = p.positions.at(-1)!;
  assert.equal(last.top[0].token, ' unto');
  assert.equal(last.next, undefined);
  // The same top-5 the CLI prints, from an independent run of the model.
  const model = loadModel(TINY_LLAMA);
  const ids = model.tokenizer!.encode('And God said').ids;
  assert.deepEqual(loaded.model.ids, ids);
  const { result } = runTrace(model.model.forward({ ids: [ids] }));
  const cli = topPredictions(result, 5, (id) => JSON.stringify(model.tokenizer!.label(id))).at(-1)!;
  for (const c of last.top.slice(0, 5)) assert.ok(cli.includes(`${JSON.stringify(c.token)} (${(c.prob * 100).toFixed(1)}%)`), `${c.token} in ${cli}`);
  // The actual next tokens are scored at every position but the last.
  assert.equal(p.scored, ids.length - 1);
  for (let t = 0; t < ids.length - 1; t++) assert.equal(p.positions[t].next!.id, ids[t + 1]);
  const mean = p.positions.slice(0, -1).reduce((a, x) => a + x.next!.loss, 0) / (ids.length - 1);
  assert.ok(Math.abs(mean - p.meanLoss!) < 1e-12);
  // Vocabulary columns are labelled with their tokens.
  if (step.view.kind !== 'matrix') throw new Error('logits are a matrix view');
  assert.equal(step.view.colLabels?.length, step.view.cols);
  assert.equal(step.view.colLabels?.[1], model.tokenizer!.label(step.view.colIndex[1]));
});

test('a step other than the logits carries no predictions', () => {
  const s = new Session();
  s.load(TINY_LLAMA, { text: 'And God said' }, 'auto', NO_CONTROL);
  const moved = s.move({ to: 'next' }, NO_CONTROL) as Moved;
  assert.equal(moved.position.kind === 'step' && moved.position.step.predictions, undefined);
});

test('tokenize: the engine tokenizer for the live count; the input text is kept for the input box', () => {
  const s = new Session();
  const loaded = s.load(TINY_LLAMA, undefined, 'auto', NO_CONTROL) as Loaded;
  assert.equal(loaded.model.text, 'The quick brown fox jumps over the lazy dog', 'the default input names its text');
  const t = s.tokenize('And God said');
  assert.equal(t.kind, 'tokenized');
  assert.deepEqual(t.ids, loadModel(TINY_LLAMA).tokenizer!.encode('And God said').ids);
  assert.equal(t.tokens.length, t.ids.length);
  assert.equal(t.tokens.join(''), '<s>And God said', 'decoded tokens join to the text (after the BOS)');
  const long = s.tokenize('And God said, '.repeat(40));
  assert.ok(long.ids.length > loaded.limits.maxLen, 'no limit applied: the host offers to truncate');
  const set = s.setInput({ text: 'In the beginning' }, NO_CONTROL);
  assert.equal(set.model.text, 'In the beginning');
  const byIds = s.setInput({ ids: [5, 6, 7] }, NO_CONTROL);
  assert.equal(byIds.model.text, undefined, 'ids have no text');
});

test('poolHeads: the mean of each block per head; a grid that fits is kept as is', async () => {
  const { poolHeads } = await import('../../engine/worker/views');
  // [batch 1, head 2, query 4, key 4]: head 1 is head 0 + 100.
  const d = Array.from({ length: 16 }, (_, i) => i);
  const t = Tensor.fromArray([1, 2, 4, 4], [...d, ...d.map((v) => v + 100)]);
  const small = poolHeads(t, 2);
  assert.deepEqual([small.heads, small.rows, small.cols], [2, 2, 2]);
  assert.deepEqual([...small.data.subarray(0, 4)], [(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4, (8 + 9 + 12 + 13) / 4, (10 + 11 + 14 + 15) / 4]);
  assert.equal(small.data[4], 102.5);
  const same = poolHeads(t, 32);
  assert.deepEqual([...same.data], [...t.data]);
});

test('attentionOverview: every pattern of tiny-llama, computed lazily to the end, steps reported', () => {
  const s = new Session();
  const loaded = s.load(TINY_LLAMA, { text: 'And God said' }, 'auto', NO_CONTROL) as Loaded;
  const r = s.attentionOverview(undefined, NO_CONTROL);
  assert.equal(r.kind, 'overview');
  assert.deepEqual(r.overview.layers.map((l) => l.name), ['blocks.0.attn.hook_pattern', 'blocks.1.attn.hook_pattern', 'blocks.2.attn.hook_pattern']);
  const ids = loaded.model.ids.length;
  for (const l of r.overview.layers) {
    assert.deepEqual([l.heads, l.rows, l.cols], [4, ids, ids]);
    // Each query's weights sum to 1 (a short input is not pooled).
    for (let q = 0; q < ids; q++) {
      const row = l.data.subarray(q * ids, (q + 1) * ids).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(row - 1) < 1e-5);
    }
  }
  assert.equal(r.steps.at(-1)?.name, 'logits');
});
