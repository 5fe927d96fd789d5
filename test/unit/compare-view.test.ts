// Compare With… (engine/worker/compare-view.ts through the session on tiny-llama; the panel's helpers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Session } from '../../engine/worker/session';
import type { Comparison } from '../../protocol/worker';
import { mostChanged, sideGrid } from '../../webview/components/compare-view';
import { initialState, reduce } from '../../webview/state';
import { model } from './webview-fixtures';

const control = { cancelled: () => false, progress: () => {} };
const session = new Session();
const loaded = session.load(
  resolve('examples/tiny-llama/config.json'),
  { text: 'And God said, Let there be light' },
  'auto',
  control,
);
const compare = (text: string, hook: string) =>
  session.handle({ kind: 'compare', input: { text }, hook }, control).reply as Comparison;
/** The input with its last token changed (same length). */
const changed = loaded.model.ids.map((id, i, all) => (i === all.length - 1 ? (id + 1) % 768 : id));
const compareIds = (ids: number[], hook: string) =>
  session.handle({ kind: 'compare', input: { ids }, hook }, control).reply as Comparison;

test('the same input compares to nothing changed', () => {
  const c = compare('And God said, Let there be light', 'blocks.1.hook_resid_post');
  assert.equal(c.maxAbs, 0);
  assert.ok(c.hooks.length > 20 && c.hooks.every((x) => x.maxAbs === 0));
  assert.ok(c.topChanges.every((x) => x.delta === 0));
  assert.deepEqual(c.unmatched, []);
});

test('another input of the same length: B − A at the hook, the top changes, every hook sized', () => {
  const c = compareIds(changed, 'blocks.1.hook_resid_post');
  assert.equal(c.a.kind, 'matrix');
  assert.ok(c.diff && c.diff.kind === 'matrix' && c.b.kind === 'matrix' && c.a.kind === 'matrix');
  for (let i = 0; i < c.diff.data.length; i++)
    assert.equal(c.diff.data[i], Math.fround(c.b.data[i] - c.a.data[i]));
  assert.ok(c.maxAbs! > 0);
  assert.equal(c.topChanges.length, 8);
  for (let i = 1; i < c.topChanges.length; i++)
    assert.ok(Math.abs(c.topChanges[i - 1].delta) >= Math.abs(c.topChanges[i].delta));
  assert.ok(c.topChanges.every((x) => Math.abs(x.after - x.before - x.delta) < 1e-12 && x.token.length > 0));
  const embed = c.hooks.find((x) => x.hook === 'hook_embed');
  assert.ok(embed && embed.maxAbs > 0, 'the changed token changes its embedding');
  const pattern = compareIds(changed, 'blocks.0.attn.hook_pattern');
  assert.equal(pattern.a.kind, 'attention');
});

test('inputs of different lengths: no difference at the hook, the hooks unmatched, the logits still compared', () => {
  const c = compare('And God said', 'blocks.1.hook_resid_post');
  assert.equal(c.diff, undefined);
  assert.ok(c.unmatched.includes('blocks.1.hook_resid_post'));
  assert.ok(c.unmatched.includes('logits'));
  assert.throws(() => compare('And God said', 'blocks.9.nothing'), /no step blocks\.9\.nothing/);
});

test('the panel: the hooks that changed most, one head of an attention side, the comparison kept until the input changes', () => {
  const c = compareIds(changed, 'blocks.0.attn.hook_pattern');
  const top = mostChanged(c, 3);
  assert.equal(top.length, 3);
  assert.ok(top[0].relative >= top[1].relative && top[1].relative >= top[2].relative);
  const g = sideGrid(c.a, 1, 1000, 1000);
  const v = c.a as Extract<Comparison['a'], { kind: 'attention' }>;
  assert.equal(g.data[v.keys + 1], v.data[v.queries * v.keys + v.keys + 1], 'head 1, query 1, key 1');
  const { kind: _k, ...comparison } = c;
  let s = reduce({ ...initialState(), tab: 'analyses' }, { type: 'comparison', comparison });
  assert.equal(s.tab, 'step', 'shown beside the step');
  assert.equal(s.comparison, comparison);
  s = reduce(s, { type: 'ui/closeComparison' });
  assert.equal(s.comparison, undefined);
  s = reduce(reduce(s, { type: 'comparison', comparison }), { type: 'model', model, steps: [] });
  assert.equal(s.comparison, undefined);
});
