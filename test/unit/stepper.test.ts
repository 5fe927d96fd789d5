import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeSpecFromJson } from '../../engine/config/native';
import { buildNativeModel } from '../../engine/model/native';
import { Stepper } from '../../engine/trace/stepper';
import { runTrace } from '../../engine/trace/step';

const tutorial = { vocab_size: 40, d_model: 16, num_heads: 4, d_ff: 32, num_layers: 2, max_len: 12, dropout: 0.1 };

test('stepper walks forward, back and to a named step without recomputing', () => {
  const model = buildNativeModel(nativeSpecFromJson(tutorial));
  const full = runTrace(model.forward({ ids: [[3, 1, 4, 1, 5]] }));
  const s = new Stepper(model.forward({ ids: [[3, 1, 4, 1, 5]] }));
  assert.equal(s.current, undefined);
  assert.equal(s.next()?.name, 'hook_embed');
  assert.equal(s.next()?.name, 'hook_pos_embed');
  assert.equal(s.previous()?.name, 'hook_embed');
  assert.equal(s.steps.length, 2, 'stepping back does not compute');
  const pattern = s.runTo('blocks.1.attn.hook_pattern');
  assert.deepEqual(pattern.tensor.shape, [1, 4, 5, 5]);
  const computed = s.steps.length;
  s.previous();
  s.runTo('blocks.0.attn.hook_pattern');
  assert.equal(s.steps.length, computed, 'going back to a computed step computes nothing');
  const last = s.runToEnd();
  assert.equal(last?.name, 'logits');
  assert.ok(s.atEnd);
  assert.equal(s.next(), undefined);
  assert.deepEqual(s.result?.data, full.result.data);
  assert.deepEqual(
    s.steps.map((x) => x.name),
    full.steps.map((x) => x.name),
  );
  s.reset();
  assert.equal(s.current, undefined);
  assert.throws(() => s.runTo('blocks.9.hook_resid_pre'), /no step named/);
});

test('seeded weights are deterministic and depend on the seed', () => {
  const a = runTrace(buildNativeModel(nativeSpecFromJson(tutorial)).forward({ ids: [[1, 2]] })).result;
  const b = runTrace(buildNativeModel(nativeSpecFromJson(tutorial)).forward({ ids: [[1, 2]] })).result;
  const c = runTrace(buildNativeModel(nativeSpecFromJson({ ...tutorial, seed: 7 })).forward({ ids: [[1, 2]] })).result;
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
});
