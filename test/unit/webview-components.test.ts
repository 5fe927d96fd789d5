// The pure parts of the view components (their DOM is checked in a browser by webview/dev/check.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParamsInfo } from '../../protocol/webview';
import { attentionKind, headMask } from '../../webview/components/attention-view';
import { shortPath } from '../../webview/components/header';
import { grandTotal, visibleRows } from '../../webview/components/param-table';
import { controlsFor, positionText } from '../../webview/components/stepper';
import { finiteRange } from '../../webview/components/tensor-view';
import { attentionView, model } from './webview-fixtures';

test('stepper controls: back and reset need a step, forward and end stop at the end of a finished pass', () => {
  const before = controlsFor({ model, position: { index: -1, computed: 0, done: false } });
  assert.deepEqual(before, { back: false, forward: true, end: true, reset: false });
  const middle = controlsFor({ model, position: { index: 3, computed: 7, done: false } });
  assert.deepEqual(middle, { back: true, forward: true, end: true, reset: true });
  const lastComputedNotDone = controlsFor({ model, position: { index: 6, computed: 7, done: false } });
  assert.equal(lastComputedNotDone.forward, true, 'more steps may follow');
  const atEnd = controlsFor({ model, position: { index: 41, computed: 42, done: true } });
  assert.deepEqual(atEnd, { back: true, forward: false, end: false, reset: true });
  const noModel = controlsFor({ model: undefined, position: { index: 3, computed: 7, done: false } });
  assert.deepEqual(noModel, { back: false, forward: false, end: false, reset: false });
});

test('stepper position text', () => {
  assert.equal(positionText({ index: -1, computed: 0, done: false }), 'Before the first step');
  assert.equal(
    positionText({ index: -1, computed: 7, done: false }),
    'Before the first step · 7 computed so far',
  );
  assert.equal(positionText({ index: -1, computed: 42, done: true }), 'Before the first step · 42');
  assert.equal(positionText({ index: 2, computed: 7, done: false }), '3 / 7 computed so far');
  assert.equal(positionText({ index: 41, computed: 42, done: true }), '42 / 42');
});

test('attention kind from the hook name, else from the values', () => {
  const stats = { min: 0, max: 1 };
  assert.equal(attentionKind({ name: 'blocks.3.attn.hook_attn_scores' }, stats), 'scores');
  assert.equal(attentionKind({ name: 'blocks.3.attn.hook_pattern' }, { min: -5, max: 5 }), 'pattern');
  assert.equal(attentionKind({ name: 'decoder.cross_attn.weights' }, stats), 'pattern');
  assert.equal(attentionKind({ name: 'decoder.cross_attn.logits' }, { min: -3, max: 2 }), 'scores');
});

test('head mask: causal entries kept, the rest masked; nothing when nothing is masked', () => {
  const view = attentionView(2, 3, true);
  assert.deepEqual([...headMask(view, 1)!], [1, 0, 0, 1, 1, 0, 1, 1, 1]);
  const full = { ...attentionView(1, 2, false), mask: undefined };
  assert.equal(headMask(full, 0), undefined);
});

test('parameter rows: depth-first, children only under open rows', () => {
  const params: ParamsInfo = {
    rows: [
      { name: 'embed', count: '640' },
      {
        name: 'blocks',
        count: '4448',
        children: [
          { name: 'blocks.0', count: '2224', children: [{ name: 'attn', count: '1088' }] },
          { name: 'blocks.1', count: '2224' },
        ],
      },
    ],
    totals: [
      { label: 'Without embeddings', count: '4448' },
      { label: 'Total', count: '5768' },
    ],
    memory: [],
  };
  const names = (open: string[]) =>
    visibleRows(params.rows, (p) => open.includes(p)).map((r) => `${r.depth}:${r.row.name}`);
  assert.deepEqual(names([]), ['0:embed', '0:blocks']);
  assert.deepEqual(names(['1']), ['0:embed', '0:blocks', '1:blocks.0', '1:blocks.1']);
  assert.deepEqual(names(['1', '1.0']), ['0:embed', '0:blocks', '1:blocks.0', '2:attn', '1:blocks.1']);
  assert.deepEqual(names(['1.0']), ['0:embed', '0:blocks'], 'a closed parent hides open children');
  assert.equal(visibleRows(params.rows, () => true)[3].path, '1.0.0');
  assert.equal(grandTotal(params)?.count, '5768', 'the total labelled Total, wherever it is');
  assert.equal(grandTotal({ ...params, totals: [{ label: 'All parameters', count: '1' }] })?.count, '1');
  assert.equal(grandTotal({ ...params, totals: [] }), undefined);
});

test('finite range skips −∞, NaN and friends; short config paths', () => {
  assert.deepEqual(finiteRange([1, -Infinity, NaN, -2, 3]), { min: -2, max: 3 });
  assert.deepEqual(finiteRange([NaN]), { min: 0, max: 0 });
  assert.equal(shortPath('/work/examples/tutorial/config.json'), 'tutorial/config.json');
  assert.equal(shortPath('C:\\models\\gpt2\\config.json'), 'gpt2/config.json');
  assert.equal(shortPath('config.json'), 'config.json');
});

test('attention layout: the side column follows the panel, tiles per row follow the heads, the main heatmap fills its width', async () => {
  const { sideWidth, tilesPerRow, mainCells } = await import('../../webview/components/attention-view');
  assert.equal(sideWidth(800), 340);
  assert.equal(sideWidth(1400), 420);
  assert.equal(sideWidth(3000), 480);
  assert.deepEqual([1, 4, 5, 12, 16, 32].map(tilesPerRow), [2, 2, 3, 3, 4, 4]);
  // 124 tokens in 700 px: fractional cells that fill the width, no pooling.
  const fit = mainCells(124, 124, 700);
  assert.equal(fit.cols, 124);
  assert.ok(Math.abs(fit.cell * fit.cols - 700) < 1e-9);
  // 30 tokens in 700 px: whole pixels (23), so gaps between cells stay even.
  assert.equal(mainCells(30, 30, 700).cell, 23);
  // 8 tokens: capped at 44 px cells.
  assert.equal(mainCells(8, 8, 700).cell, 44);
  // 2000 keys in 500 px at dpr 1: pooled so that a cell keeps at least a device pixel.
  const pooled = mainCells(2000, 2000, 500, 1);
  assert.ok(pooled.cols <= 500 && pooled.cell >= 1);
});
