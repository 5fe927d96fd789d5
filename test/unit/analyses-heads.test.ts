/** Head detectors, next-token attention and attention rollout: hand-made patterns, every family, tiny-llama's known head. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { detectHeads, detectorScores, layerPatterns, repeatedRandomTokens, topHead, type LayerPattern } from '../../engine/analyses/heads';
import { attentionRollout, nextTokenAttention } from '../../engine/analyses/attention-flow';
import { runTrace } from '../../engine/trace/step';
import { loadModel } from '../../engine/model/load';
import { runHeads } from '../../engine/cli/heads';
import { isInspectorError } from '../../engine/errors';
import { analysisCases } from './analyses-cases';

const TINY_LLAMA = path.resolve(__dirname, '..', '..', 'examples', 'tiny-llama');

/** A causal pattern [H, T, T] from a function of (head, query, key), rows normalised. */
function pattern(H: number, T: number, f: (h: number, q: number, k: number) => number): LayerPattern {
  const data = new Float32Array(H * T * T);
  for (let h = 0; h < H; h++) {
    for (let q = 0; q < T; q++) {
      let s = 0;
      for (let k = 0; k <= q; k++) s += f(h, q, k);
      for (let k = 0; k <= q; k++) data[(h * T + q) * T + k] = f(h, q, k) / s;
    }
  }
  return { heads: H, T, data };
}

test('detectors on hand-made heads: a previous-token head, an induction head and a uniform one score as defined', () => {
  const ids = [7, 3, 9, 4, 7, 3, 9, 4]; // a span of 4 repeated
  const T = ids.length;
  const p = pattern(3, T, (h, q, k) => {
    if (h === 0) return k === q - 1 || q === 0 ? 1 : 0; // previous token
    if (h === 1) return q >= 4 ? (k === q - 3 ? 1 : 0) : k === 0 ? 1 : 0; // induction: the token after the earlier copy (q−4)+1
    return 1; // uniform
  });
  const prev = detectorScores(p, ids, 'previous_token');
  assert.equal(prev[0], 1);
  assert.ok(Math.abs(prev[2] - (1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6 + 1 / 7 + 1 / 8) / 7) < 1e-7);
  const ind = detectorScores(p, ids, 'induction');
  assert.equal(ind[1], 1);
  assert.equal(ind[0], 0);
  const dup = detectorScores(p, ids, 'duplicate_token');
  // Uniform head: query q ≥ 4 puts 1/(q+1) on its one earlier copy.
  assert.ok(Math.abs(dup[2] - (1 / 5 + 1 / 6 + 1 / 7 + 1 / 8) / 4) < 1e-7);
  assert.equal(topHead([prev]).head, 0);
});

test('the repeated random sequence: prefix, then a span and its copy; seeded; excluded ids never drawn', () => {
  const s = repeatedRandomTokens(50, 20, 3, [0], [0, 1]);
  assert.equal(s.length, 41);
  assert.equal(s[0], 0);
  assert.deepEqual(s.slice(1, 21), s.slice(21));
  assert.ok(s.slice(1).every((id) => id >= 2 && id < 50));
  assert.deepEqual(repeatedRandomTokens(50, 20, 3, [0], [0, 1]), s);
  assert.notDeepEqual(repeatedRandomTokens(50, 20, 4, [0], [0, 1]), s);
});

test('next-token attention is the last query row; rollout composes ½A + ½I over layers, rows summing to 1', () => {
  const T = 5;
  const a = pattern(2, T, (h, q, k) => (h === 0 ? 1 : k === q ? 3 : 1));
  const b = pattern(2, T, (_h, _q, k) => (k === 0 ? 2 : 1));
  const next = nextTokenAttention([a, b]);
  assert.deepEqual(next[1][0], Array.from(b.data.subarray((T - 1) * T, T * T)));
  const roll = attentionRollout([a, b]);
  const hat = (p: LayerPattern) =>
    Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => 0.5 * ((p.data[i * T + j] + p.data[T * T + i * T + j]) / 2) + (i === j ? 0.5 : 0)));
  const A = hat(a);
  const Bm = hat(b);
  for (let i = 0; i < T; i++) {
    let rowSum = 0;
    for (let j = 0; j < T; j++) {
      let want = 0;
      for (let k = 0; k < T; k++) want += Bm[i][k] * A[k][j];
      assert.ok(Math.abs(roll[1][i * T + j] - want) < 1e-6, `rollout[${i}][${j}]`);
      rowSum += roll[1][i * T + j];
    }
    assert.ok(Math.abs(rowSum - 1) < 1e-9);
  }
});

test('tiny-llama: layer 2, head 1 is the top previous-token head, on a verse and on random tokens', () => {
  const { model, tokenizer } = loadModel(TINY_LLAMA);
  const ids = tokenizer!.encode('And God said, Let there be light: and there was light.').ids;
  const onVerse = detectHeads(model, { input: { ids: [ids] }, prefix: [0], exclude: [0, 1] });
  assert.deepEqual(topHead(onVerse.previous_token), { layer: 2, head: 1, score: onVerse.previous_token[2][1] });
  assert.ok(onVerse.previous_token[2][1] > 0.6, `${onVerse.previous_token[2][1]}`);
  const onRandom = detectHeads(model, { prefix: [0], exclude: [0, 1] });
  assert.equal(topHead(onRandom.previous_token).layer, 2);
  assert.equal(topHead(onRandom.previous_token).head, 1);
  // The README: no induction head in tiny-llama (nothing above the level of spread-out attention).
  assert.ok(topHead(onRandom.induction).score < 0.05, `${topHead(onRandom.induction).score}`);
});

test('heads CLI: JSON layers × heads tables under the three names', () => {
  let text = '';
  assert.equal(runHeads([TINY_LLAMA, '--text', 'In the beginning God created the heaven and the earth.', '--json'], (s) => (text += s)), 0);
  const j = JSON.parse(text) as Record<string, number[][]>;
  assert.deepEqual(Object.keys(j), ['previous_token', 'duplicate_token', 'induction']);
  for (const k of Object.keys(j)) {
    assert.equal(j[k].length, 3);
    for (const row of j[k]) assert.equal(row.length, 4);
  }
  assert.equal(topHead(j.previous_token).layer, 2);
});

for (const c of analysisCases()) {
  test(`${c.name}: the detectors run on the input and a repeated sequence, scores in [0, 1] (or the missing pattern is named)`, () => {
    const { model } = c.loaded;
    const input = { ...c.input, ids: [c.input.ids[0]], decoderIds: c.input.decoderIds && [c.input.decoderIds[0]], attentionMask: undefined, decoderAttentionMask: undefined, tokenTypeIds: undefined };
    let patterns: LayerPattern[];
    try {
      patterns = layerPatterns(model, runTrace(model.forward(input)).steps);
    } catch (e) {
      assert.ok(isInspectorError(e) && /pattern/.test(e.message));
      return;
    }
    const d = detectHeads(model, { input, half: Math.min(4, Math.floor(model.spec.maxLen / 2)) });
    for (const table of [d.previous_token, d.duplicate_token, d.induction]) {
      assert.equal(table.length, patterns.length);
      for (const row of table) for (const s of row) assert.ok(s >= 0 && s <= 1 + 1e-6, `${s}`);
    }
    for (const r of attentionRollout(patterns)) for (const v of r) assert.ok(Number.isFinite(v));
  });
}
