// Exporting an analysis view (src/inspector/analysis-export.ts): SVG through the engine's figures,
// a PNG that decodes to the cells' colours, .npy of the matrix, JSON of the whole view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import type { AnalysisReply } from '../../protocol/analyses';
import { analysisHeatmaps, encodePng, exportAnalysis } from '../../src/inspector/analysis-export';
import { cellColor } from '../../engine/analyses/svg';

const lens: AnalysisReply = {
  kind: 'analysis',
  labels: [
    [5, ' light'],
    [6, '<dark>'],
  ],
  view: {
    analysis: 'lens',
    hooks: ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post'],
    positions: 2,
    k: 1,
    topIds: Int32Array.from([5, 6, 6, 5]),
    topProbs: Float32Array.from([0.25, 0.5, 0.75, 1]),
  },
};
const heads: AnalysisReply = {
  kind: 'analysis',
  labels: [],
  view: {
    analysis: 'heads',
    previous_token: [[0.1, 0.9]],
    duplicate_token: [[0, 0.2]],
    induction: [[0.3, NaN]],
    repeated: [1, 2],
  },
};

/** Decode an RGB PNG written by encodePng: width, height and the pixel bytes. */
function decodePng(png: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const view = new DataView(png.buffer, png.byteOffset);
  assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  let at = 8;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 3 + 1)], 0, 'filter 0');
    rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  }
  return { width, height, rgb };
}

test('the lens as a figure: an SVG with the top tokens (escaped) and the probabilities as colours', () => {
  const svg = new TextDecoder().decode(exportAnalysis('svg', { analysis: 'lens' }, lens, ['a', 'b']));
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /&lt;dark&gt;/, 'labels are escaped');
  assert.match(svg, / light/);
  assert.ok(svg.includes(cellColor(0.75, 0, 1, 'sequential')), 'the cell of probability 0.75');
  const maps = analysisHeatmaps(lens, ['a', 'b']);
  assert.deepEqual(maps[0].values, [
    [0.25, 0.5],
    [0.75, 1],
  ]);
});

test('PNG: one block per cell, in the figure’s colours; maps stacked', () => {
  const png = decodePng(exportAnalysis('png', { analysis: 'lens' }, lens, []));
  assert.deepEqual([png.width, png.height], [24, 24]);
  const at = (x: number, y: number) =>
    Array.from(png.rgb.subarray((y * png.width + x) * 3, (y * png.width + x) * 3 + 3));
  const rgb = (v: number) =>
    /rgb\((\d+),(\d+),(\d+)\)/
      .exec(cellColor(v, 0, 1, 'sequential'))!
      .slice(1)
      .map(Number);
  assert.deepEqual(at(18, 18), rgb(1));
  assert.deepEqual(at(2, 14), rgb(0.75));
  const three = decodePng(exportAnalysis('png', { analysis: 'heads' }, heads, []));
  assert.deepEqual([three.width, three.height], [24, 3 * 12 + 2 * 12]);
  assert.deepEqual(
    Array.from(three.rgb.subarray((48 * 24 + 13) * 3, (48 * 24 + 13) * 3 + 3)),
    [204, 204, 204],
    'NaN drawn grey',
  );
  const tiny = decodePng(encodePng(1, 1, Uint8Array.from([1, 2, 3])));
  assert.deepEqual(Array.from(tiny.rgb), [1, 2, 3]);
});

test('.npy of the matrix (the detectors stacked), JSON of the whole view', () => {
  const npy = exportAnalysis('npy', { analysis: 'heads' }, heads, []);
  const header = new TextDecoder().decode(
    npy.subarray(10, 10 + new DataView(npy.buffer, npy.byteOffset).getUint16(8, true)),
  );
  assert.match(header, /'shape': \(3, 1, 2\)/);
  const body = new Float32Array(npy.slice(npy.length - 6 * 4).buffer);
  assert.deepEqual(Array.from(body.subarray(0, 4)), [
    Math.fround(0.1),
    Math.fround(0.9),
    0,
    Math.fround(0.2),
  ]);
  assert.ok(Number.isNaN(body[5]));
  const json = JSON.parse(
    new TextDecoder().decode(exportAnalysis('json', { analysis: 'lens', top: 1 }, lens, [])),
  );
  assert.deepEqual(json.request, { analysis: 'lens', top: 1 });
  assert.deepEqual(json.view.topIds, [5, 6, 6, 5]);
  assert.deepEqual(json.labels[1], [6, '<dark>']);
  const nan = JSON.parse(new TextDecoder().decode(exportAnalysis('json', { analysis: 'heads' }, heads, [])));
  assert.equal(nan.view.induction[0][1], 'NaN');
});
