import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HATCH_PERIOD,
  bands,
  cellAt,
  fitCells,
  labelStride,
  poolMaxAbs,
  rasterize,
} from '../../webview/raster';

test('pooling keeps a matrix that fits unchanged', () => {
  const data = Float32Array.from([1, -2, 3, 4, 5, -6]);
  const g = poolMaxAbs(data, 2, 3, 10, 10);
  assert.deepEqual([...g.data], [...data]);
  assert.deepEqual(g.rowBands, [0, 1, 2]);
  assert.deepEqual(g.colBands, [0, 1, 2, 3]);
  assert.equal(g.masked, undefined);
});

test('pooling keeps the signed value of largest magnitude per block', () => {
  // 2 × 8 → 2 × 2: columns 0-3 and 4-7.
  const data = Float32Array.from([0.1, -9, 2, 0, 1, 1, 1, 7, 0, 0, 0, 0.5, -0.25, 0.2, 0, 0]);
  const g = poolMaxAbs(data, 2, 8, 2, 2);
  assert.equal(g.cols, 2);
  assert.deepEqual([...g.data], [-9, 7, 0.5, -0.25]);
  assert.deepEqual(g.colBands, [0, 4, 8]);
  // Rows too: 4 × 1 → 2 × 1.
  const h = poolMaxAbs(Float32Array.from([1, -3, 2, 2.5]), 4, 1, 2, 5);
  assert.deepEqual([...h.data], [-3, 2.5]);
  assert.deepEqual(h.rowBands, [0, 2, 4]);
});

test('pooling with a mask skips masked cells and marks fully masked blocks', () => {
  const data = Float32Array.from([0.5, -1e9, 0.9, -1e9]);
  const mask = Uint8Array.from([1, 0, 1, 0]);
  const g = poolMaxAbs(data, 2, 2, 2, 2, mask);
  assert.deepEqual([...g.masked!], [0, 1, 0, 1]);
  assert.ok(Number.isNaN(g.data[1]));
  const pooled = poolMaxAbs(data, 2, 2, 1, 1, mask);
  assert.deepEqual([...pooled.data], [Math.fround(0.9)], 'the −1e9 fill never wins');
  assert.deepEqual([...pooled.masked!], [0]);
});

test('pooling a huge matrix stays fast enough never to freeze the panel', () => {
  const rows = 512;
  const cols = 4096;
  const data = new Float32Array(rows * cols).map((_, i) => Math.sin(i));
  const t0 = performance.now();
  const g = poolMaxAbs(data, rows, cols, 400, 600);
  assert.equal(g.rows, 400);
  assert.equal(g.cols, 600);
  assert.ok(performance.now() - t0 < 500);
});

test('bands split evenly and cover everything', () => {
  assert.deepEqual(bands(10, 3), [0, 3, 6, 10]);
  assert.deepEqual(bands(3, 3), [0, 1, 2, 3]);
});

test('cells fit the box, capped, and pool when 1 px cells do not fit', () => {
  assert.deepEqual(fitCells(5, 16, { maxWidth: 600, maxHeight: 400, maxCell: 28 }), {
    cellWidth: 28,
    cellHeight: 28,
    rows: 5,
    cols: 16,
  });
  const wide = fitCells(5, 3072, { maxWidth: 600, maxHeight: 400, maxCell: 28 });
  assert.equal(wide.cellWidth, 1);
  assert.equal(wide.cols, 600, 'pooled to the width');
  const square = fitCells(5, 10, { maxWidth: 100, maxHeight: 400, maxCell: 40, square: true });
  assert.equal(square.cellWidth, 10);
  assert.equal(square.cellHeight, 10);
  const attention = fitCells(2048, 2048, { maxWidth: 748, maxHeight: 480, maxCell: 44, square: true });
  assert.deepEqual([attention.rows, attention.cols], [480, 480], 'square pooling keeps the diagonal');
  const tall = fitCells(2048, 8, { maxWidth: 200, maxHeight: 500, maxCell: 20 });
  assert.equal(tall.cellHeight, 1);
  assert.equal(tall.rows, 500);
});

test('rasterize fills one color per cell, with gaps and hatching', () => {
  const colors = [10, 20, 30, 40];
  const r = rasterize({ rows: 2, cols: 2, cellWidth: 3, cellHeight: 2, colorOf: (i) => colors[i] });
  assert.equal(r.width, 6);
  assert.equal(r.height, 4);
  const words = new Uint32Array(r.pixels.buffer);
  const at = (x: number, y: number) => words[y * r.width + x];
  assert.equal(at(0, 0), 10);
  assert.equal(at(2, 1), 10);
  assert.equal(at(3, 0), 20);
  assert.equal(at(0, 2), 30);
  assert.equal(at(5, 3), 40);

  const g = rasterize({ rows: 1, cols: 2, cellWidth: 12, cellHeight: 12, colorOf: () => 7, gapColor: 99 });
  const gw = new Uint32Array(g.pixels.buffer);
  assert.equal(gw[11], 99, 'gap at the right edge of a cell');
  assert.equal(gw[11 * g.width + 3], 99, 'gap at the bottom');
  assert.equal(gw[0], 7);

  const m = rasterize({
    rows: 1,
    cols: 1,
    cellWidth: 12,
    cellHeight: 12,
    colorOf: () => 7,
    isMasked: () => true,
    maskStripe: 1,
    maskBase: 2,
  });
  const mw = new Uint32Array(m.pixels.buffer);
  const stripes = [...mw].filter((w) => w === 1).length;
  const base = [...mw].filter((w) => w === 2).length;
  assert.equal(stripes + base, 144, 'a masked cell is stripes on the base, never the value color');
  assert.ok(stripes > 0 && base > stripes);
  assert.equal(mw[0], 1);
  assert.equal(mw[HATCH_PERIOD - 1], 2);
});

test('pointer to cell, clamped to the grid', () => {
  assert.deepEqual(cellAt(0, 0, 100, 50, 5, 10), { row: 0, col: 0 });
  assert.deepEqual(cellAt(99.9, 49.9, 100, 50, 5, 10), { row: 4, col: 9 });
  assert.deepEqual(cellAt(25, 15, 100, 50, 5, 10), { row: 1, col: 2 });
  assert.equal(cellAt(-1, 0, 100, 50, 5, 10), undefined);
  assert.equal(cellAt(100, 0, 100, 50, 5, 10), undefined);
});

test('labels thinned to stay readable', () => {
  assert.deepEqual(labelStride(5, 20, 12), [0, 1, 2, 3, 4]);
  assert.deepEqual(labelStride(10, 5, 12), [0, 3, 6, 9]);
  assert.deepEqual(labelStride(8, 5, 12), [0, 3, 6]);
  assert.deepEqual(labelStride(0, 5, 12), []);
});

test('nice ticks step by 1, 2 or 5 × 10^k', async () => {
  const { niceTicks } = await import('../../webview/raster');
  assert.deepEqual(niceTicks(16, 8), [0, 2, 4, 6, 8, 10, 12, 14]);
  assert.deepEqual(niceTicks(3072, 6), [0, 500, 1000, 1500, 2000, 2500, 3000]);
  assert.deepEqual(niceTicks(50257, 5), [0, 10000, 20000, 30000, 40000, 50000]);
  assert.deepEqual(niceTicks(3, 10), [0, 1, 2]);
  assert.deepEqual(niceTicks(0, 5), [0]);
});

test('a feature index maps to the shown column that holds it, through striding and pooling', async () => {
  const { columnOfFeature } = await import('../../webview/raster');
  const features = Array.from({ length: 512 }, (_, i) => i * 6); // every 6th of 3072
  const colBands = bands(512, 256); // pooled 2:1
  assert.equal(columnOfFeature(0, features, colBands), 0);
  assert.equal(columnOfFeature(5, features, colBands), 0);
  assert.equal(columnOfFeature(12, features, colBands), 1, 'feature 12 is source column 2, in band 1');
  assert.equal(columnOfFeature(3071, features, colBands), 255);
  assert.equal(columnOfFeature(-1, features, colBands), undefined);
  assert.equal(columnOfFeature(3, [], [0]), undefined);
});
