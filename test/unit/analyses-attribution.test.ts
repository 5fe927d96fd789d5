/** Direct logit attribution: components plus bias terms are the logit (1e-5), on every pre-norm family. */
import { test } from 'node:test';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { runTrace } from '../../engine/trace/step';
import { attributeSteps, headTable } from '../../engine/analyses/attribution';
import { readoutSide } from '../../engine/analyses/model-view';
import { isInspectorError } from '../../engine/errors';
import { analysisCases } from './analyses-cases';
import { runAttribute } from '../../engine/cli/attribute';

function argmaxAt(data: Float32Array, off: number, V: number): number {
  let best = 0;
  for (let i = 1; i < V; i++) if (data[off + i] > data[off + best]) best = i;
  return best;
}

for (const c of analysisCases()) {
  const { model } = c.loaded;
  const pre = readoutSide(model).blocks.every((b) => b.placement === 'pre') && !model.headExtras.transform;
  if (!pre) {
    test(`${c.name}: attribution refuses a post-norm model by name`, () => {
      const { steps, result } = runTrace(model.forward(c.input));
      assert.throws(() => attributeSteps(model, steps, result, { target: 0 }), (e: unknown) => isInspectorError(e) && /pre-norm|nonlinear/.test(e.message));
    });
    continue;
  }
  test(`${c.name}: embeddings + heads + MLPs + bias terms = the logit and the logit difference (1e-5), every position`, () => {
    const { steps, result } = runTrace(model.forward(c.input));
    const [B, T, V] = result.shape as [number, number, number];
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const target = argmaxAt(result.data, (b * T + t) * V, V);
        const versus = (target + 1 + t) % V;
        for (const opts of [{ target }, { target, versus }]) {
          const a = attributeSteps(model, steps, result, { ...opts, position: t, batch: b });
          const scale = Math.max(1, ...a.components.map((x) => Math.abs(x.value)));
          assert.ok(Math.abs(a.total - a.logit) <= 1e-5 * scale, `${c.name} b${b} t${t}: Σ = ${a.total}, logit ${a.logit}`);
        }
      }
    }
    // Every layer's heads are split out where the attention has one output projection.
    const a = attributeSteps(model, steps, result, { target: 1 });
    const heads = a.components.filter((x) => x.kind === 'head');
    assert.ok(heads.length > 0 || a.components.some((x) => x.kind === 'attn'));
    assert.ok(a.components.some((x) => x.kind === 'embed'));
    const table = headTable(a, readoutSide(model).blocks.length);
    for (const h of heads) if (h.attention === 'self') assert.equal(table[h.layer!][h.head!], h.value);
  });
}

test('attribute CLI: JSON parts and biases add up to the logit difference of tiny-llama', () => {
  let text = '';
  const dir = path.resolve(__dirname, '..', '..', 'examples', 'tiny-llama');
  assert.equal(runAttribute([dir, '--text', 'And God said', '--target', ' unto', '--versus', ' to', '--json'], (s) => (text += s)), 0);
  const j = JSON.parse(text) as { position: number; logit: number; total: number; components: { kind: string; value: number }[]; biases: unknown[] };
  assert.equal(j.position, 3);
  assert.equal(j.components.filter((c) => c.kind === 'head').length, 12); // 3 layers × 4 heads
  assert.equal(j.components.filter((c) => c.kind === 'mlp').length, 3);
  const sum = j.components.reduce((s, c) => s + c.value, 0);
  assert.ok(Math.abs(sum - j.logit) < 1e-5 * Math.max(1, Math.abs(j.logit)), `${sum} vs ${j.logit}`);
  assert.ok(j.logit > 0, '“ unto” beats “ to” after “And God said”');
});
