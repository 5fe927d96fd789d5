/**
 * The analyses against PyTorch: tools/golden/gen_analyses.py computed the logit lens, direct logit
 * attribution and activation patching with Hugging Face transformers on the gpt2 and llama golden models
 * (forward hooks on the real modules); the engine matches at 1e-5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { lensLogits } from '../../engine/analyses/lens';
import { attributeSteps } from '../../engine/analyses/attribution';
import { patchSetup, patchingGrid } from '../../engine/analyses/patching';
import { maxRelDiff } from './analyses-cases';

interface Reference {
  clean_ids: number[];
  corrupted_ids: number[];
  target: number;
  versus: number;
  lens_logits: number[][][];
  attribution: { position: number; logit: number; norm_scale: number; components: Record<string, number>; biases: Record<string, number> };
  patching: { clean_logit_diff: number; corrupted_logit_diff: number; resid: number[][]; heads: number[][]; mlp: number[][] };
}

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');

for (const name of ['gpt2', 'llama']) {
  const ref = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'analyses', `${name}.json`), 'utf8')) as Reference;
  const { model } = loadModel(path.join(FIXTURES, 'hf', name));
  const clean = { ids: [ref.clean_ids] };
  const { steps, result } = runTrace(model.forward(clean));

  test(`${name}: the logit lens at every layer matches PyTorch (1e-5)`, () => {
    const lens = lensLogits(model, steps);
    assert.equal(lens.length, ref.lens_logits.length);
    lens.forEach(({ logits }, i) => {
      const d = maxRelDiff(logits.data, ref.lens_logits[i].flat());
      assert.ok(d < 1e-5, `layer entry ${i}: ${d}`);
    });
  });

  test(`${name}: direct logit attribution, part by part, matches PyTorch (1e-5)`, () => {
    const a = attributeSteps(model, steps, result, { target: ref.target, versus: ref.versus, position: ref.attribution.position });
    assert.ok(Math.abs(a.logit - ref.attribution.logit) <= 1e-5 * Math.max(1, Math.abs(ref.attribution.logit)));
    assert.ok(Math.abs(a.normScale - ref.attribution.norm_scale) <= 1e-5 * ref.attribution.norm_scale);
    assert.deepEqual(a.components.map((c) => c.name).sort(), Object.keys(ref.attribution.components).sort());
    assert.deepEqual(a.biases.map((c) => c.name).sort(), Object.keys(ref.attribution.biases).sort());
    const scale = Math.max(1, ...Object.values(ref.attribution.components).map(Math.abs));
    for (const c of [...a.components, ...a.biases]) {
      const want = ref.attribution.components[c.name] ?? ref.attribution.biases[c.name];
      assert.ok(Math.abs(c.value - want) <= 1e-5 * scale, `${c.name}: ${c.value} vs ${want}`);
    }
  });

  test(`${name}: activation patching of the residual, each head and each MLP matches PyTorch (1e-5)`, () => {
    const setup = patchSetup(model, clean, { ids: [ref.corrupted_ids] });
    for (const what of ['resid', 'heads', 'mlp'] as const) {
      const grid = patchingGrid(setup, { target: ref.target, versus: ref.versus, what });
      assert.ok(Math.abs(grid.clean - ref.patching.clean_logit_diff) <= 1e-5 * Math.max(1, Math.abs(grid.clean)));
      assert.ok(Math.abs(grid.corrupted - ref.patching.corrupted_logit_diff) <= 1e-5 * Math.max(1, Math.abs(grid.corrupted)));
      const d = maxRelDiff(grid.values.flat(), ref.patching[what].flat());
      assert.ok(d < 1e-5, `${what}: ${d}`);
    }
  });
}
