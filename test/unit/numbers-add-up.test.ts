// Every number the hovers, the CodeLens and the parameter table show adds up, for every config this
// project ships or analyses (examples/ and test/fixtures/): each total equals the sum of the lines it
// sums, and equals the analysis' own count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyze, categoryParts, FFN, keyFacts, layerBreakdown, totalLine, type AnalysisInput } from '../../src/config/facts';
import type { Analysis, ComponentNode } from '../../engine/analysis/index';
import type { Category } from '../../engine/analysis/types';
import { paramsInfo } from '../../engine/worker/params';
import { configProblems } from '../../src/config/checks';
import { formatCount } from '../../engine/analysis/report';

const ROOT = resolve(__dirname, '..', '..');

function configs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...configs(p));
    else if (name === 'config.json' || name.endsWith('.transformer.json')) out.push(p);
  }
  return out.sort();
}

const all = [...configs(join(ROOT, 'examples')), ...configs(join(ROOT, 'test', 'fixtures'))];
const analysed: { file: string; input: AnalysisInput; a: Analysis }[] = [];
for (const file of all) {
  const input: AnalysisInput = { json: JSON.parse(readFileSync(file, 'utf8')), file, native: file.endsWith('.transformer.json') };
  try {
    analysed.push({ file: file.slice(ROOT.length + 1), input, a: analyze(input) });
  } catch {
    // A fixture the analysis refuses on purpose (bad-input tests) has no numbers to check.
  }
}

const sumOf = (a: Analysis, cats: readonly Category[]) => cats.reduce((t, c) => t + a.params.byCategory[c], 0n);

test('the configs are found and most are analysed', () => {
  assert.ok(all.length >= 40, `${all.length} configs`);
  assert.ok(analysed.length >= 35, `${analysed.length} analysed`);
  assert.ok(analysed.some((x) => x.file.includes('deepseek-v3')));
});

for (const { file, input, a } of analysed) {
  test(`${file}: every total equals the sum of its lines and the analysis`, () => {
    // The split by category (the width hover) adds up to the total.
    assert.equal(categoryParts(a).reduce((t, p) => t + p.count, 0n), a.params.total, 'categories');

    for (const [cats, what, keys] of [
      [FFN, 'Feed-forward', ['d_ff', 'intermediate_size', 'n_inner', 'encoder_ffn_dim', 'moe_intermediate_size']],
      [['attention'], 'Attention', ['num_heads', 'num_attention_heads', 'n_head', 'encoder_attention_heads']],
    ] as const) {
      const b = layerBreakdown(a, cats);
      for (const l of b.lines) assert.equal(l.total, l.shared ? l.perLayer : l.layers * l.perLayer, `${what} ${l.path} in ${l.stack}`);
      assert.equal(b.sum, b.lines.filter((l) => !l.extra).reduce((t, l) => t + l.total, 0n));
      // What the lines count under these categories is what the analysis counts under them.
      assert.equal(b.sum - b.otherCategories, sumOf(a, cats), `${what}: lines vs analysis`);
      // The hover says that sum, and every line says which stack it is in when there are several.
      const key = keys.find((k) => typeof (input.json as Record<string, unknown>)[k] === 'number');
      if (!key || b.sum === 0n) continue;
      const text = keyFacts(key, a, input).join('\n');
      assert.ok(text.includes(`${what}, all layers: **${formatCount(b.sum)}** parameters`), `${key}: ${text}`);
      assert.ok(!/in 1 layers/.test(text), 'singular layer');
      if (b.lines.some((l) => l.extra)) assert.match(text, /not in the model’s total/);
    }

    // The CodeLens: the total, and for a mixture of experts the active parameters too.
    const lens = totalLine(a);
    assert.ok(lens.startsWith(`${formatCount(a.params.total)} parameters`));
    if (a.params.active < a.params.total) assert.match(lens, /active per token/);

    // The table: its first total is the analysis' total; every row is the sum of its parts.
    const info = paramsInfo(a);
    assert.equal(info.totals[0].count, a.conventions[0].params.toString());
    assert.equal(info.rows[0].count, a.params.total.toString(), 'the root row is the total');
    checkNode(a.components);
    // The all-at-once diagnostics rules find nothing wrong in a config the analysis accepts.
    assert.deepEqual(configProblems(input.json), []);
  });
}

/** A component's parameters: its copies × (its own tensors + its children in the sum). */
function checkNode(n: ComponentNode): void {
  const own = n.tensors.reduce((t, x) => t + x.params, 0n);
  const kids = n.children.filter((c) => c.only !== 'base' && c.only !== 'extra').reduce((t, c) => t + c.params, 0n);
  const each = own + kids;
  if (n.count !== undefined) {
    assert.equal(n.each, each, `${n.name}: one copy`);
    assert.equal(n.params, n.shared ? each : n.count * each, `${n.name}: copies × one copy`);
  } else {
    assert.equal(n.params, each, `${n.name} (${n.path}): own tensors + children`);
  }
  n.children.forEach(checkNode);
}
