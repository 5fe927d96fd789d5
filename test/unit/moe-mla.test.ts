import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../engine/tensor';
import { Linear } from '../../engine/nn/linear';
import { GatedFeedForward } from '../../engine/nn/ffn';
import { MixtureOfExperts } from '../../engine/nn/moe';
import { deinterleave } from '../../engine/nn/mla';
import { applyRope } from '../../engine/nn/rope';
import { fillUniform } from '../../engine/model/rng';
import { runTrace } from '../../engine/trace/step';
import { assertClose } from '../helpers/close';

const rand = (shape: number[], seed: number) => {
  const t = new Tensor(shape);
  fillUniform(t.data, 1, seed);
  return t;
};
const expert = (seed: number) => new GatedFeedForward('e', new Linear(rand([6, 4], seed)), new Linear(rand([6, 4], seed + 1)), new Linear(rand([4, 6], seed + 2)), 'silu');

test('mixture of experts: softmax router, top-k experts weighted by their probabilities, plus shared experts', () => {
  const experts = [expert(10), expert(20), expert(30), expert(40)];
  const shared = expert(50);
  const router = new Linear(rand([4, 4], 60));
  const x = rand([1, 3, 4], 70);
  for (const normTopK of [false, true]) {
    const moe = new MixtureOfExperts('mlp', router, experts, shared, { topK: 2, method: 'greedy', groups: 1, topkGroups: 1, normTopK, scale: 1.5 });
    const { result, steps } = runTrace(moe.forward(x));
    const probs = steps.find((s) => s.name === 'mlp.hook_router_probs')!.tensor;
    const weights = steps.find((s) => s.name === 'mlp.hook_expert_weights')!.tensor;
    const expected = new Float32Array(12);
    for (let t = 0; t < 3; t++) {
      const row = [...probs.data.subarray(t * 4, t * 4 + 4)];
      assert.ok(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-6, 'router probabilities sum to 1');
      const top = [0, 1, 2, 3].sort((a, b) => row[b] - row[a]).slice(0, 2);
      const sum = row[top[0]] + row[top[1]];
      const xt = new Tensor([1, 1, 4], x.data.slice(t * 4, t * 4 + 4));
      const out = runTrace(shared.forward(xt)).result.data.slice();
      for (const e of top) {
        const w = (normTopK ? row[e] / sum : row[e]) * 1.5;
        assert.ok(Math.abs(weights.data[t * 4 + e] - w) < 1e-6);
        const y = runTrace(experts[e].forward(xt)).result.data;
        for (let j = 0; j < 4; j++) out[j] += w * y[j];
      }
      assert.equal(weights.data.subarray(t * 4, t * 4 + 4).filter((v) => v === 0).length, 2, 'two experts not chosen');
      expected.set(out, t * 4);
    }
    assertClose(result.data, expected, 1e-6, `moe output (normTopK ${normTopK})`);
  }
});

test("DeepSeek's de-interleave + rotate_half gives the same scores as the interleaved rotation", () => {
  const q = rand([1, 1, 1, 8], 1);
  const k = rand([1, 1, 1, 8], 2);
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  const half = { layout: 'half' as const, theta: 10000, rotaryDim: 8 };
  const inter = { layout: 'interleaved' as const, theta: 10000, rotaryDim: 8 };
  const ds = dot(applyRope(deinterleave(q), half, 5).data, applyRope(deinterleave(k), half, 2).data);
  const il = dot(applyRope(q, inter, 5).data, applyRope(k, inter, 2).data);
  assert.ok(Math.abs(ds - il) < 1e-5);
  assert.deepEqual([...deinterleave(new Tensor([4], Float32Array.from([0, 1, 2, 3]))).data], [0, 2, 1, 3]);
});
