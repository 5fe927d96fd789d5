import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../engine/tensor';
import { attentionView, matrixView, strideColumns, tensorStats, HISTOGRAM_BINS, MAX_COLS } from '../../engine/worker/views';
import { causalMask } from '../../engine/nn/mask';

test('strideColumns keeps every feature up to the limit, then every k-th', () => {
  assert.deepEqual(strideColumns(5, 512), [0, 1, 2, 3, 4]);
  assert.equal(strideColumns(512).length, 512);
  const wide = strideColumns(1025); // stride 3
  assert.equal(wide[1], 3);
  assert.ok(wide.length <= MAX_COLS);
  assert.equal(strideColumns(50257).length <= MAX_COLS, true);
});

test('matrixView shows batch element 0 as tokens × features', () => {
  // [batch 2, pos 3, d_model 4]: batch 1 is all 100s and must not appear
  const t = Tensor.fromArray([2, 3, 4], [...Array.from({ length: 12 }, (_, i) => i), ...Array(12).fill(100)]);
  const { view, stats } = matrixView(t, ['batch', 'pos', 'd_model'], ['a', 'b', 'c']);
  assert.equal(view.kind, 'matrix');
  if (view.kind !== 'matrix') return;
  assert.equal(view.rows, 3);
  assert.equal(view.cols, 4);
  assert.deepEqual([...view.data], Array.from({ length: 12 }, (_, i) => i));
  assert.deepEqual(view.rowLabels, ['a', 'b', 'c']);
  assert.equal(view.colName, 'd_model');
  assert.equal(stats.min, 0);
  assert.equal(stats.max, 11);
  assert.equal(stats.mean, 5.5);
  assert.ok(Math.abs(stats.std - Math.sqrt(143 / 12)) < 1e-12);
  assert.deepEqual(stats.rowNorms.map((x) => +x.toFixed(6)), [Math.sqrt(14), Math.sqrt(126), Math.sqrt(366)].map((x) => +x.toFixed(6)));
  assert.equal(view.data.buffer === t.data.buffer, false, 'the view is a copy, safe to transfer');
});

test('matrixView flattens heads and strides wide features; stats use every feature', () => {
  const t = new Tensor([1, 2, 4, 300]); // [batch, pos, head, d_head]: 1200 features, stride 3
  for (let i = 0; i < t.size; i++) t.data[i] = i % 1200;
  const { view, stats } = matrixView(t, ['batch', 'pos', 'head_index', 'd_head'], ['x', 'y']);
  if (view.kind !== 'matrix') throw new Error('matrix expected');
  assert.equal(view.fullCols, 1200);
  assert.equal(view.cols, 400);
  assert.deepEqual(view.colIndex.slice(0, 3), [0, 3, 6]);
  assert.equal(view.data[401], 3, 'row 1, shown column 1 = feature 3');
  assert.equal(view.colName, 'head × d_head');
  assert.equal(stats.max, 1199, 'stats see the features the view skipped');
});

test('row labels that do not fit the axis become position numbers', () => {
  const { view } = matrixView(new Tensor([1, 3, 2]), ['batch', 'pos', 'd_model'], ['only', 'two']);
  if (view.kind !== 'matrix') throw new Error('matrix expected');
  assert.deepEqual(view.rowLabels, ['#0', '#1', '#2']);
});

test('attentionView keeps every head of batch 0 with the mask; masked scores stay out of the stats', () => {
  const H = 2;
  const T = 3;
  const scores = new Tensor([2, H, T, T]);
  const mask = causalMask(2, T);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) scores.data[(h * T + i) * T + j] = j <= i ? h + i + j : -1e9;
  scores.data.fill(7, H * T * T); // batch 1
  const { view, stats } = attentionView(scores, mask, ['a', 'b', 'c'], ['a', 'b', 'c']);
  if (view.kind !== 'attention') throw new Error('attention expected');
  assert.equal(view.heads, 2);
  assert.equal(view.queries, 3);
  assert.equal(view.keys, 3);
  assert.equal(view.data.length, H * T * T);
  assert.deepEqual([...(view.mask ?? [])], [1, 0, 0, 1, 1, 0, 1, 1, 1]);
  assert.equal(stats.min, 0);
  assert.equal(stats.max, 5, 'the −1e9 fill is not a value');
  assert.equal(stats.rowNorms.length, 3, 'one norm per query');
  assert.equal(stats.rowNorms[0], 1, 'query 0: head 0 sees 0, head 1 sees 1');
  assert.equal(stats.histogram.counts.reduce((a, b) => a + b, 0), 12, 'only the 2 × 6 attended entries are counted');
});

test('attentionView leaves the mask out when nothing was masked', () => {
  const full = { batch: 1, queries: 2, keys: 2, data: new Uint8Array([1, 1, 1, 1]) };
  const { view } = attentionView(new Tensor([1, 1, 2, 2]), full, ['a', 'b'], ['a', 'b']);
  assert.equal('mask' in view, false);
});

test('tensorStats: 32-bin histogram from min to max, last bin closed, non-finite values skipped', () => {
  const values = Float32Array.from([0, 1, 2, 3, NaN, Infinity, 32]);
  const s = tensorStats(values, 1, values.length);
  assert.equal(s.histogram.counts.length, HISTOGRAM_BINS);
  assert.equal(s.histogram.edges.length, HISTOGRAM_BINS + 1);
  assert.equal(s.histogram.edges[0], 0);
  assert.equal(s.histogram.edges[HISTOGRAM_BINS], 32);
  assert.equal(s.histogram.counts[0], 1);
  assert.equal(s.histogram.counts[1], 1);
  assert.equal(s.histogram.counts[31], 1, 'max falls in the last bin');
  assert.equal(s.histogram.counts.reduce((a, b) => a + b, 0), 5);
  const flat = tensorStats(Float32Array.from([2, 2, 2]), 1, 3);
  assert.equal(flat.std, 0);
  assert.equal(flat.histogram.counts[0], 3, 'a constant tensor lands in one bin');
  const empty = tensorStats(new Float32Array(0), 0, 0);
  assert.equal(empty.mean, 0);
});
