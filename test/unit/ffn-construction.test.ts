/**
 * The feed-forward modules choose their activation kernel once, when they are built (issue 8):
 * `forward` applies the function chosen then and never looks at the activation's name again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../engine/tensor';
import { Linear } from '../../engine/nn/linear';
import { FeedForward, GatedFeedForward } from '../../engine/nn/ffn';
import { ACTIVATION_FNS, type Activation } from '../../engine/kernels/ops';
import { runTrace } from '../../engine/trace/step';

const D = 4;
const F = 6;

function tensor(shape: number[], seed: number): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
  return Tensor.fromArray(shape, v);
}

function postOf(steps: { name: string; tensor: Tensor }[]): Float32Array {
  const s = steps.find((t) => t.name.endsWith('hook_post'));
  assert.ok(s, 'hook_post fires');
  return s.tensor.data;
}

test('FeedForward: the activation chosen at construction is the one applied, whatever act says later', () => {
  const ffn = new FeedForward('blocks.0.mlp', new Linear(tensor([F, D], 1), tensor([F], 2)), new Linear(tensor([D, F], 3)), 'gelu');
  const x = tensor([1, 3, D], 4);
  const first = runTrace(ffn.forward(x));
  const pre = first.steps[0].tensor.data;
  assert.ok(pre.some((v) => v < -0.1), 'negative pre-activations, where GELU and ReLU differ');
  const gelu = Array.from(pre, ACTIVATION_FNS.gelu);
  postOf(first.steps).forEach((v, i) => assert.ok(Math.abs(v - gelu[i]) < 1e-6));
  // A field rewritten after construction (not something the engine does) does not reach forward.
  (ffn as unknown as { act: Activation }).act = 'relu';
  const again = runTrace(ffn.forward(x));
  assert.deepEqual(Array.from(postOf(again.steps)), Array.from(postOf(first.steps)));
});

test('GatedFeedForward: the gate activation is chosen once (SwiGLU stays SiLU)', () => {
  const ffn = new GatedFeedForward('blocks.0.mlp', new Linear(tensor([F, D], 5)), new Linear(tensor([F, D], 6)), new Linear(tensor([D, F], 7)), 'silu');
  const x = tensor([1, 2, D], 8);
  const first = runTrace(ffn.forward(x));
  const g = first.steps.find((s) => s.name.endsWith('hook_pre'))!.tensor.data;
  const u = first.steps.find((s) => s.name.endsWith('hook_pre_linear'))!.tensor.data;
  const want = Array.from(g, (v, i) => ACTIVATION_FNS.silu(v) * u[i]);
  postOf(first.steps).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6));
  (ffn as unknown as { act: Activation }).act = 'identity';
  assert.deepEqual(Array.from(postOf(runTrace(ffn.forward(x)).steps)), Array.from(postOf(first.steps)));
});
