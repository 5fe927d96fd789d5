/**
 * The trace intervention mechanism: a consumer answers a step with a replacement and the pass continues
 * with it; resuming at a block with its recorded resid_pre reproduces the pass. Every family.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTrace } from '../../engine/trace/step';
import { runIntervened } from '../../engine/trace/intervene';
import { Stepper } from '../../engine/trace/stepper';
import { Tensor } from '../../engine/tensor';
import { isInspectorError } from '../../engine/errors';
import { analysisCases } from './analyses-cases';

const cases = analysisCases();

test('the analyses see every fixture family', () => {
  assert.ok(cases.length >= 20, `${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.name}: answering nothing is the plain pass; a replacement flows on; observed hooks refuse one`, () => {
    const { model } = c.loaded;
    const plain = runTrace(model.forward(c.input));
    const none = runIntervened(model.forward(c.input), () => undefined);
    assert.deepEqual(none.replaced, []);
    assert.deepEqual(none.result.data, plain.result.data);
    assert.equal(none.steps.length, plain.steps.length);

    // Replace the last block's output-side hook that is live with zeros: the logits must change.
    const live = plain.steps.filter((s) => !s.observed && s.name !== 'logits' && /hook_(attn_out|mlp_out)$/.test(s.name)).at(-1)!;
    const zeroed = runIntervened(model.forward(c.input), (s) => (s.name === live.name ? new Tensor(s.tensor.shape) : undefined));
    assert.deepEqual(zeroed.replaced, [live.name]);
    assert.ok(zeroed.steps.find((s) => s.name === live.name)!.tensor.data.every((v) => v === 0));
    assert.notDeepEqual(zeroed.result.data, plain.result.data, `zeroing ${live.name} changes the logits`);

    const observed = plain.steps.find((s) => s.observed);
    if (observed) {
      assert.throws(
        () => runIntervened(model.forward(c.input), (s) => (s.name === observed.name ? s.tensor.clone() : undefined)),
        (e: unknown) => isInspectorError(e) && e.message.includes(observed.name),
      );
    }
    assert.throws(
      () => runIntervened(model.forward(c.input), (s) => (s.name === live.name ? new Tensor([1, 1]) : undefined)),
      (e: unknown) => isInspectorError(e) && /must have its shape/.test(e.message),
    );
  });

  if (c.singleStack) {
    test(`${c.name}: resuming at every block with its recorded resid_pre reproduces the logits`, () => {
      const { model } = c.loaded;
      const plain = runTrace(model.forward(c.input));
      const blocks = model.main.stack.blocks;
      for (let layer = 0; layer < blocks.length; layer++) {
        const residPre = plain.steps.find((s) => s.name === `${blocks[layer].path}.hook_resid_pre`)!.tensor;
        const resumed = runTrace(model.forward({ ...c.input, resume: { layer, residPre } }));
        assert.deepEqual(resumed.result.data, plain.result.data, `resume at ${layer}`);
        assert.equal(resumed.steps[0].name, `${blocks[layer].path}.hook_resid_pre`);
      }
    });
  }
}

test('the Stepper still drives a trace that accepts answers', () => {
  const c = cases[0];
  const s = new Stepper(c.loaded.model.forward(c.input));
  s.runToEnd();
  assert.ok(s.done && s.result);
});
