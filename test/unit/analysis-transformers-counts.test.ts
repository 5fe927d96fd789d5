import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JsonObject } from '../../engine/config/json';
import { buildHfModel, hfSpec } from '../../engine/model/hf';
import { analyzeConfig, expandTensors } from '../../engine/analysis';

/**
 * Tiny configs where the families differ on a key (head_dim's default, which of attention_bias and
 * mlp_bias a family reads), counted by the real transformers classes (tools/golden/count_params.py):
 * the analysis and the tensors the engine allocates must both be what transformers builds, name by name.
 */
interface Case {
  why: string;
  config: JsonObject;
  total: number;
  parameters: Record<string, number[]>;
}
const file = path.join(__dirname, '..', 'fixtures', 'hf-counts', 'counts.json');
const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as { versions: { transformers: string }; cases: Record<string, Case> };

for (const [name, c] of Object.entries(fixture.cases)) {
  const expected = Object.entries(c.parameters).sort(([a], [b]) => a.localeCompare(b));

  test(`${name}: the analysis counts what transformers ${fixture.versions.transformers} builds (${c.why})`, () => {
    const a = analyzeConfig(c.config);
    assert.equal(a.params.total, BigInt(c.total));
    const listed = expandTensors(a.arch).map((t) => [t.name, t.shape.map(Number)] as const).sort(([x], [y]) => x.localeCompare(y));
    assert.deepEqual(listed, expected);
  });

  test(`${name}: the engine allocates what transformers builds`, () => {
    const text = JSON.stringify(c.config);
    const model = buildHfModel(text, undefined, hfSpec(text));
    const allocated = [...model.parameters].map(([n, t]) => [n, [...t.shape]] as const).sort(([x], [y]) => x.localeCompare(y));
    assert.deepEqual(allocated, expected);
    assert.equal(model.parameterCount(), c.total);
  });
}
