/** Ablation identities on every family: nothing = the original; a zeroed head = its W_O slice zeroed; resumed = whole rerun. */
import { weightsChanged } from '../../engine/kernels';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTrace } from '../../engine/trace/step';
import { byName, runIntervened } from '../../engine/trace/intervene';
import { ablate, ablationEdits, parseHeadList, positionMean } from '../../engine/analyses/ablation';
import { blockHooks, outputProjection, readoutSide, selfAttention } from '../../engine/analyses/model-view';
import { isInspectorError } from '../../engine/errors';
import { analysisCases, maxRelDiff } from './analyses-cases';

for (const c of analysisCases()) {
  const { model } = c.loaded;
  const blocks = readoutSide(model).blocks;
  test(`${c.name}: ablating nothing reruns to the original logits bit for bit`, () => {
    const r = ablate(model, c.input, {});
    assert.deepEqual(r.replaced, []);
    assert.deepEqual(r.logits.data, r.baseline.data);
    assert.equal(r.maxAbsDelta, 0);
    if (r.loss) assert.equal(r.loss.delta, 0);
  });

  const L = blocks.length - 1;
  const attn = selfAttention(blocks[L]);
  const proj = attn && outputProjection(attn);
  const { steps } = runTrace(model.forward(c.input));
  const z = steps.find((s) => s.name === blockHooks(blocks[L]).z[0]);
  // Shared layers (one set of weights in every slot): zeroing the weight would ablate the head everywhere.
  const shared = proj && blocks.some((b, i) => i !== L && selfAttention(b) && outputProjection(selfAttention(b)!)?.weight === proj.weight);
  if (proj && z && !shared) {
    test(`${c.name}: zero-ablating a head equals the engine run with that head's output-projection slice zeroed`, () => {
      const [, , H, dh] = z.tensor.shape as [number, number, number, number];
      const head = H - 1;
      const r = ablate(model, c.input, { heads: [{ layer: L, head }] });
      assert.equal(r.firstLayer, L);
      const W = proj.weight;
      const saved = W.data.slice();
      const K = H * dh;
      try {
        for (let j = 0; j < W.shape[0]; j++) W.data.fill(0, j * K + head * dh, j * K + (head + 1) * dh);
        weightsChanged(W);
        const want = runTrace(model.forward(c.input)).result;
        assert.ok(maxRelDiff(r.logits.data, want.data) < 1e-6, `${maxRelDiff(r.logits.data, want.data)}`);
        assert.ok(r.maxAbsDelta > 0, 'the head mattered');
      } finally {
        W.data.set(saved);
        weightsChanged(W);
      }
    });
  }

  test(`${c.name}: every ablation kind, resumed from its first layer, equals the whole pass rerun with the same replacements`, () => {
    const H = z ? z.tensor.shape[2] : 0;
    const specs = [
      ...(z ? [{ heads: [{ layer: L, head: 0 }], mode: 'mean' as const }] : []),
      ...(blockHooks(blocks[0]).mlpOut.length ? [{ mlps: [0] }, { mlps: [0], mode: 'mean' as const }] : []),
      { layers: [L] },
    ];
    for (const spec of specs) {
      const r = ablate(model, c.input, spec);
      const { edits } = ablationEdits(model, steps, spec);
      const whole = runIntervened(model.forward(c.input), byName(edits));
      assert.deepEqual(r.logits.data, whole.result.data, JSON.stringify(spec));
      assert.deepEqual(r.replaced, whole.replaced);
    }
    if (z) {
      const zMean = positionMean(z.tensor);
      const run = runIntervened(model.forward(c.input), (s) => ablationEdits(model, steps, { heads: [{ layer: L, head: 0 }], mode: 'mean' }).edits.get(s.name)?.(s.tensor));
      const got = run.steps.find((s) => s.name === z.name)!.tensor;
      const dh = z.tensor.shape[3];
      for (let r = 0; r < got.size / (H * dh); r++) {
        assert.deepEqual(got.data.subarray(r * H * dh, r * H * dh + dh), zMean.data.subarray(r * H * dh, r * H * dh + dh));
        assert.deepEqual(got.data.subarray(r * H * dh + dh, (r + 1) * H * dh), z.tensor.data.subarray(r * H * dh + dh, (r + 1) * H * dh));
      }
    }
  });
}

test('ablation names a head or layer that does not exist; LAYER.HEAD lists parse', () => {
  const c = analysisCases().find((x) => x.name === 'hf/llama')!;
  assert.throws(() => ablate(c.loaded.model, c.input, { heads: [{ layer: 0, head: 99 }] }), (e: unknown) => isInspectorError(e) && /heads 0 … 3/.test(e.message));
  assert.throws(() => ablate(c.loaded.model, c.input, { mlps: [42] }), (e: unknown) => isInspectorError(e) && /layer 42/.test(e.message));
  assert.deepEqual(parseHeadList('2.1, 3.0'), [{ layer: 2, head: 1 }, { layer: 3, head: 0 }]);
  assert.throws(() => parseHeadList('2'), (e: unknown) => isInspectorError(e));
});
