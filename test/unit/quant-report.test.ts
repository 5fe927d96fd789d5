import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runQuantize } from '../../engine/cli/quantize';
import { renderQuantizeReport, bar, type QuantizeReportJson } from '../../src/quantize/report';

const LLAMA = path.resolve(__dirname, '..', 'fixtures', 'hf', 'llama');

test('the Quantization view renders the engine’s report: figures, one row per layer, bars scaled to the largest error', () => {
  const lines: string[] = [];
  runQuantize([LLAMA, '--method', 'llm-int8', '--threshold', '2', '--calib-ids', '5,7,9,11,13,15;20,22,24,26,28,30', '--eval-ids', '1,37,62,35', '--json'], (s) => lines.push(s));
  const report = JSON.parse(lines.join('\n')) as QuantizeReportJson;
  const md = renderQuantizeReport('/m/config.json', report);
  assert.match(md, /^# Quantization: llm-int8 \(8-bit\)/);
  assert.match(md, new RegExp(`\\| perplexity \\| ${report.perplexity_fp.toFixed(4)} \\| ${report.perplexity_q.toFixed(4)} \\|`));
  const rows = md.split('\n').filter((l) => l.startsWith('| `model.layers.'));
  assert.equal(rows.length, report.layers.length);
  const worst = report.layers.reduce((a, b) => (b.output_rel_error > a.output_rel_error ? b : a));
  assert.ok(rows.find((r) => r.includes(`\`${worst.name}\``))!.includes('█'.repeat(24)), 'the largest output error has the full bar');
  assert.match(rows[0], /outlier dims/);
});

test('bars: proportional, at least one cell for any error, none for zero', () => {
  assert.equal(bar(0.5, 1), '█'.repeat(12));
  assert.equal(bar(1e-9, 1), '█');
  assert.equal(bar(0, 1), '');
  assert.equal(bar(1, 0), '');
});
