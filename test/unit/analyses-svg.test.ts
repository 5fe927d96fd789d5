/** SVG figures of the analyses (vector export for papers): cells, labels escaped, scales, the CLI's --svg. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cellColor, escapeXml, heatmapSvg, stackSvgs } from '../../engine/analyses/svg';
import { runHeads } from '../../engine/cli/heads';
import { runLens } from '../../engine/cli/lens';

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

test('a heatmap has one cell per value, its labels escaped, and the scale’s ends at the extremes', () => {
  const svg = heatmapSvg({
    title: 'a <b> & "c"',
    values: [
      [0, 0.5],
      [1, NaN],
    ],
    rowLabels: ['r0', 'r1'],
    colLabels: ['<s>', '\u0001x'],
    cellText: [
      ['a', 'b'],
      ['c', 'd'],
    ],
    scale: 'sequential',
    min: 0,
    max: 1,
  });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.equal(count(svg, /<rect x="\d+" y="\d+" width="36"/g), 4);
  assert.ok(svg.includes('a &lt;b&gt; &amp; &quot;c&quot;'));
  assert.ok(svg.includes('&lt;s&gt;') && svg.includes('\ufffdx') && !svg.includes('\u0001'));
  assert.ok(svg.includes(`fill="${cellColor(0, 0, 1, 'sequential')}"`) && cellColor(0, 0, 1, 'sequential') === 'rgb(255,255,255)');
  assert.equal(cellColor(1, 0, 1, 'sequential'), 'rgb(8,69,148)');
  assert.equal(cellColor(NaN, 0, 1, 'sequential'), '#cccccc');
  assert.equal(cellColor(-2, -2, 2, 'diverging'), 'rgb(178,24,43)');
  assert.equal(cellColor(0, -2, 2, 'diverging'), 'rgb(255,255,255)');
  assert.equal(cellColor(2, -2, 2, 'diverging'), 'rgb(33,102,172)');
  assert.equal(escapeXml("it's"), 'it&apos;s');
});

test('stacked panels keep every cell and add the heights', () => {
  const one = heatmapSvg({ title: 'x', values: [[1]], rowLabels: ['a'], colLabels: ['b'], scale: 'diverging' });
  const both = stackSvgs([one, one]);
  const h = Number(/height="(\d+)"/.exec(one)![1]);
  assert.equal(Number(/height="(\d+)"/.exec(both)![1]), 2 * h);
  assert.equal(count(both, /width="36"/g), 2);
});

test('lens and heads CLI --svg write figures with a cell per layer × position and per layer × head', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-svg-'));
  try {
    const tiny = path.resolve(__dirname, '..', '..', 'examples', 'tiny-llama');
    const lensFile = path.join(dir, 'lens.svg');
    assert.equal(runLens([tiny, '--text', 'And God said', '--svg', lensFile], () => undefined), 0);
    assert.equal(count(fs.readFileSync(lensFile, 'utf8'), /width="36"/g), 4 * 4); // 4 depths × 4 tokens
    const headsFile = path.join(dir, 'heads.svg');
    assert.equal(runHeads([path.resolve(__dirname, '..', '..', 'examples', 'induction'), '--svg', headsFile, '--json'], () => undefined), 0);
    assert.equal(count(fs.readFileSync(headsFile, 'utf8'), /width="36"/g), 3 * 2 * 4); // 3 detectors × 2 layers × 4 heads
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
