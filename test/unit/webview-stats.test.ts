import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attentionStats,
  barAt,
  computeStats,
  hasMasked,
  histogramLayout,
  isMaskedEntry,
} from '../../webview/stats';
import { attentionView } from './webview-fixtures';

test('stats: min, max, mean, std, row norms and a histogram covering every value', () => {
  const s = computeStats([3, 4, 0, 0, -1, 1], undefined, 4, 3);
  assert.equal(s.min, -1);
  assert.equal(s.max, 4);
  assert.ok(Math.abs(s.mean - 7 / 6) < 1e-12);
  const variance = [3, 4, 0, 0, -1, 1].reduce((a, v) => a + (v - 7 / 6) ** 2, 0) / 6;
  assert.ok(Math.abs(s.std - Math.sqrt(variance)) < 1e-12);
  assert.deepEqual(s.rowNorms, [5, 0, Math.SQRT2]);
  assert.equal(
    s.histogram.counts.reduce((a, b) => a + b),
    6,
  );
  assert.equal(s.histogram.edges.length, 5);
  assert.equal(s.histogram.edges[0], -1);
  assert.equal(s.histogram.edges[4], 4);
  assert.equal(s.histogram.counts[3], 2, 'the last bin is closed: 3 and the maximum 4');
});

test('stats of nothing and of a constant are well defined', () => {
  const none = computeStats([], undefined, 4);
  assert.equal(none.min, 0);
  assert.equal(none.histogram.counts.length, 1);
  const constant = computeStats([2, 2, 2], undefined, 4);
  assert.equal(constant.std, 0);
  assert.equal(constant.histogram.counts[0], 3);
});

test('attention scores: −1e9 masked entries are not data', () => {
  const view = attentionView(2, 3, true);
  assert.ok(isMaskedEntry(view, 0, 0, 1));
  assert.ok(!isMaskedEntry(view, 0, 1, 1));
  const s = attentionStats(view);
  assert.ok(s.min > -10, `min ${s.min} is a real score`);
  assert.equal(
    s.histogram.counts.reduce((a, b) => a + b),
    2 * 6,
    'only the 6 causal entries per head',
  );
  assert.ok(hasMasked(view));
  // Without a mask array, −1e9 alone marks an entry as masked.
  const bare = { ...view, mask: undefined };
  assert.ok(isMaskedEntry(bare, 1, 0, 2));
  assert.equal(attentionStats(bare).min, s.min);
  const pattern = attentionView(1, 2, false);
  assert.ok(!hasMasked({ ...pattern, mask: undefined }));
});

test('histogram layout: bars fill the width, tallest fills the height, non-empty bins stay visible', () => {
  const bars = histogramLayout({ edges: [0, 1, 2, 3, 4], counts: [1, 1000, 0, 10] }, 200, 50);
  assert.equal(bars.length, 4);
  assert.equal(bars[1].height, 50);
  assert.equal(bars[0].height, 1, 'tiny but visible');
  assert.equal(bars[2].height, 0);
  assert.equal(bars[3].x, 150);
  assert.equal(bars[0].width, 49, '1 px gap');
  assert.deepEqual([bars[3].from, bars[3].to, bars[3].count], [3, 4, 10]);
  assert.equal(barAt(bars, 0), 0);
  assert.equal(barAt(bars, 49.5), 0, 'the gap belongs to the bar on its left');
  assert.equal(barAt(bars, 199), 3);
  assert.equal(barAt(bars, 250), undefined);
  const dense = histogramLayout(
    { edges: Array.from({ length: 301 }, (_, i) => i), counts: new Array(300).fill(1) },
    100,
    10,
  );
  assert.ok(dense.every((b) => b.width >= 1));
  assert.deepEqual(histogramLayout({ edges: [0], counts: [] }, 100, 10), []);
});

test('headSummary: entropy, self, previous and first-token weight of one head', async () => {
  const { headSummary, headOnly, attentionStats } = await import('../../webview/stats');
  // 2 heads, 3 × 3, causal. Head 0 looks at the previous token (query 0 at itself); head 1 spreads evenly.
  const d = [1, 0, 0, 1, 0, 0, 0, 1, 0, /* head 1 */ 1, 0, 0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3];
  const mask = Uint8Array.from([1, 0, 0, 1, 1, 0, 1, 1, 1]);
  const view = {
    kind: 'attention' as const,
    heads: 2,
    queries: 3,
    keys: 3,
    data: Float32Array.from(d),
    mask,
    queryLabels: ['a', 'b', 'c'],
    keyLabels: ['a', 'b', 'c'],
  };
  const h0 = headSummary(view, 0);
  assert.ok(Math.abs(h0.entropy) < 1e-9, 'one key per query');
  assert.ok(Math.abs(h0.previous - 1) < 1e-9);
  assert.ok(Math.abs(h0.self - 1 / 3) < 1e-9);
  assert.ok(Math.abs(h0.first - 2 / 3) < 1e-9);
  const h1 = headSummary(view, 1);
  assert.ok(Math.abs(h1.entropy - (0 + Math.log(2) + Math.log(3)) / 3) < 1e-6);
  assert.ok(Math.abs(h1.previous - (0.5 + 1 / 3) / 2) < 1e-6);
  // Stats of one head see only that head's values.
  const s1 = attentionStats(headOnly(view, 1));
  assert.equal(
    s1.histogram.counts.reduce((a, b) => a + b, 0),
    6,
    'the 6 unmasked entries of one head',
  );
  assert.ok(Math.abs(s1.mean - 3 / 6) < 1e-6);
});

test('histogram bars on a log scale keep a single value visible beside a huge bin', async () => {
  const { histogramLayout } = await import('../../webview/stats');
  const hist = { edges: [0, 1, 2], counts: [1_000_000, 1] };
  const linear = histogramLayout(hist, 100, 100);
  const log = histogramLayout(hist, 100, 100, true);
  assert.equal(linear[1].height, 1, 'linear: the single value is the minimum 1 px');
  assert.equal(log[0].height, 100);
  assert.equal(log[1].height, Math.round((Math.log1p(1) / Math.log1p(1e6)) * 100));
  assert.ok(log[1].height > 1);
});
