import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findWasmBinaries } from '../../engine/kernels/wasm';
import { gpt2Flops, measurePeak } from '../../engine/kernels/peak';
import { findOnnxruntime, ortMatmul } from '../../engine/cli/bench-ort';

/** `bench`'s ceiling: the peak loop runs in both builds, the GPT-2 FLOP count, the ONNX MatMul it hands onnxruntime. */

test('the peak loop runs in both builds and reports a finite rate from wall and CPU time', () => {
  for (const choice of ['plain', 'relaxed'] as const) {
    const bin = findWasmBinaries(choice);
    assert.ok(bin, `${choice} build`);
    const { wall, cpu } = measurePeak(bin, 20, 2);
    assert.ok(Number.isFinite(wall) && wall > 0.5, `${choice}: ${wall} GFLOP/s wall`);
    assert.ok(Number.isFinite(cpu) && cpu > 0.5, `${choice}: ${cpu} GFLOP/s per CPU-second`);
  }
});

test('GPT-2-small at 128 tokens: 31.62 GFLOP in the weight matmuls, 0.60 in attention', () => {
  const f = gpt2Flops(128);
  assert.equal(f.weights, 12 * 2 * 128 * 768 * (4 * 768 + 2 * 3072) + 2 * 128 * 768 * 50257);
  assert.equal(f.weights, 31_624_200_192);
  assert.equal(f.attention, 603_979_776);
});

test('the one-node ONNX MatMul graph computes x · b in onnxruntime-node (skipped when it is not installed)', async (t) => {
  const found = findOnnxruntime();
  if (!found) {
    t.skip('onnxruntime-node is not installed (bash ../shared/perf/setup.sh puts it in /tmp/ti-perf)');
    return;
  }
  for (const [M, N, K] of [[1, 1, 1], [3, 5, 7], [17, 3, 33]]) {
    const r = await ortMatmul(found, M, N, K, 1, 1);
    assert.ok(r.maxDiff < 1e-5, `${M}×${K} · ${K}×${N}: max |diff| ${r.maxDiff}`);
    assert.ok(r.gflops > 0);
  }
});
