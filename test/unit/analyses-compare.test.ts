/** Compare: two inputs through one model, or one input through a model and its 16-bit copy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { compareRuns, compareTensors, probabilityChanges } from '../../engine/analyses/compare';
import { loadModel } from '../../engine/model/load';
import { Tensor } from '../../engine/tensor';
import { isInspectorError } from '../../engine/errors';
import { runCompare } from '../../engine/cli/compare';

const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');
const llama = loadModel(path.join(HF, 'llama')).model;
const llamaF16 = loadModel(path.join(HF, 'llama_f16')).model;
const ids = [[1, 37, 62, 35, 63, 34, 57]];

test('a run compared with itself differs nowhere', () => {
  const r = compareRuns({ model: llama, input: { ids } }, { model: llama, input: { ids } });
  assert.deepEqual(r.unmatched, []);
  assert.ok(r.hooks.length > 20);
  assert.equal(r.hooks.filter((h) => h.hook === 'logits').length, 1, 'the logits once');
  assert.deepEqual(compareRuns({ model: llama, input: { ids } }, { model: llama, input: { ids } }, { hooks: ['logits'] }).hooks.map((h) => h.hook), ['logits']);
  for (const h of r.hooks) assert.equal(h.maxAbs, 0, h.hook);
  for (const pos of r.topChanges) for (const c of pos) assert.equal(c.delta, 0);
});

test('two inputs differing at position 3 of a causal model: nothing before it changes, at any hook', () => {
  const other = [ids[0].map((id, t) => (t === 3 ? 99 : id))];
  const r = compareRuns({ model: llama, input: { ids } }, { model: llama, input: { ids: other } });
  for (const h of r.hooks) {
    if (h.shape.length < 3 || h.hook.includes('hook_pattern') || h.hook.includes('attn_scores')) continue;
    const [B, T] = h.shape as [number, number];
    const row = h.diff.size / (B * T);
    for (let t = 0; t < 3; t++) for (let j = 0; j < row; j++) assert.equal(h.diff.data[t * row + j], 0, `${h.hook} position ${t}`);
    if (h.hook.endsWith('hook_resid_post')) assert.ok(h.maxAbs > 0, `${h.hook} changes from position 3 on`);
  }
  const logits = r.hooks.find((h) => h.hook === 'logits')!;
  assert.ok(logits.maxAbs > 0);
  // The top changes are sorted by |Δ probability| and are real probabilities.
  for (const pos of r.topChanges.slice(3)) {
    for (let i = 1; i < pos.length; i++) assert.ok(Math.abs(pos[i - 1].delta) >= Math.abs(pos[i].delta));
    for (const c of pos) assert.ok(c.before >= 0 && c.before <= 1 && Math.abs(c.after - c.before - c.delta) < 1e-12);
  }
});

test('a model and its float16 copy: small, nonzero differences at every hook (the rounding of the weights)', () => {
  const r = compareRuns({ model: llama, input: { ids } }, { model: llamaF16, input: { ids } });
  assert.deepEqual(r.unmatched, []);
  const logits = r.hooks.find((h) => h.hook === 'logits')!;
  assert.ok(logits.relative > 1e-6 && logits.relative < 1e-2, `${logits.relative}`);
  const embed = r.hooks.find((h) => h.hook === 'hook_embed')!;
  assert.ok(embed.relative > 0 && embed.relative < 1e-3, `${embed.relative}`);
});

test('different lengths are listed as unmatched, not compared; shape mismatch in compareTensors is named', () => {
  const r = compareRuns({ model: llama, input: { ids } }, { model: llama, input: { ids: [ids[0].slice(0, 5)] } });
  assert.equal(r.hooks.length, 0);
  assert.equal(r.unmatched.filter((u) => u.hook === 'logits').length, 1);
  assert.throws(() => compareTensors('x', new Tensor([2]), new Tensor([3])), (e: unknown) => isInspectorError(e));
  const a = Tensor.fromArray([1, 1, 3], [0, 0, 0]);
  const b = Tensor.fromArray([1, 1, 3], [0, 0, Math.log(2)]);
  const ch = probabilityChanges(a, b, 0, 3);
  assert.equal(ch[0].id, 2);
  assert.ok(Math.abs(ch[0].before - 1 / 3) < 1e-12 && Math.abs(ch[0].after - 0.5) < 1e-7);
});

test('compare CLI: a model against its bfloat16 copy, and two inputs, as JSON', () => {
  let text = '';
  assert.equal(runCompare([path.join(HF, 'llama'), '--ids', '1,37,62,35', '--with', path.join(HF, 'llama_bf16'), '--json'], (s) => (text += s)), 0);
  const j = JSON.parse(text) as { hooks: { hook: string; relative: number }[]; unmatched: unknown[]; top_changes: { id: number; delta: number }[] };
  assert.deepEqual(j.unmatched, []);
  const logits = j.hooks.find((h) => h.hook === 'logits')!;
  assert.ok(logits.relative > 1e-4 && logits.relative < 0.05, `${logits.relative}`);
  assert.equal(j.top_changes.length, 5);
  text = '';
  assert.equal(runCompare([path.join(HF, 'llama'), '--ids', '1,37,62,35', '--with-ids', '1,37,62,36', '--hook', 'hook_embed', '--json'], (s) => (text += s)), 0);
  const k = JSON.parse(text) as { hooks: { hook: string; max_abs: number }[] };
  assert.deepEqual(k.hooks.map((h) => h.hook), ['hook_embed', 'logits']);
  assert.throws(() => runCompare([path.join(HF, 'llama'), '--ids', '1,2'], () => undefined), (e: unknown) => isInspectorError(e) && /second model/.test(e.message));
});
