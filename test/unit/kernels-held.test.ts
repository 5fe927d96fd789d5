import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findWasmBinaries, WasmKernels } from '../../engine/kernels/wasm';
import { referenceMatmul } from '../../engine/kernels/reference';
import { unpackPanels } from '../../engine/kernels/held';
import { Tensor } from '../../engine/tensor';
import { fillUniform } from '../../engine/model/rng';
import { assertClose } from '../helpers/close';

// F32 weights held once: the packed panels are the values, the tensor reads them back on demand.
const bin = findWasmBinaries();
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 1],
  [17, 3, 17],
  [5, 4099, 3],
  [3, 17, 4099],
  [4099, 3, 17],
  [37, 61, 300],
];

function reference(x: Float32Array, w: Float32Array, M: number, N: number, K: number, bias?: Float32Array): Float32Array {
  const out = new Float32Array(M * N);
  referenceMatmul.linear(out, x, w, M, N, K, bias);
  return out;
}

for (const threads of [1, 2]) {
  test(`a held F32 weight (${threads} thread${threads > 1 ? 's' : ''}): the tensor drops its copy, reads the same bits back, and linear matches the reference`, { skip: !bin && 'kernels not built' }, () => {
    const k = new WasmKernels(bin!, threads);
    k.pool.waitReady();
    try {
      let seed = 300;
      for (const [M, N, K] of SHAPES) {
        const values = fillUniform(new Float32Array(N * K), 1, seed++);
        const original = values.slice();
        const w = new Tensor([N, K], values);
        const x = fillUniform(new Float32Array(M * K), 1, seed++);
        const bias = fillUniform(new Float32Array(N), 1, seed++);
        const out = new Float32Array(M * N);
        k.linearHeld(out, x, w, M, N, K, bias);
        assertClose(out, reference(x, original, M, N, K, bias), 1e-5, `linear ${M}×${N}×${K}`);
        assert.equal(w.heldBytes, 0, `${N}×${K}: the tensor no longer holds its fp32 values`);
        // A second call uses the held panels (no read-back), the same result.
        const again = new Float32Array(M * N);
        k.linearHeld(again, x, w, M, N, K, bias);
        assert.deepEqual(again, out);
        assert.equal(w.heldBytes, 0, 'still held once after the second call');
        // JavaScript reads the values: the same bits, read back from the panels.
        assert.deepEqual(w.data, original, `${N}×${K}: read back bit for bit`);
      }
    } finally {
      k.pool.close();
    }
  });
}

test('a held weight written in place and announced (weightsChanged path) is repacked with the new values', { skip: !bin && 'kernels not built' }, () => {
  const k = new WasmKernels(bin!, 2);
  k.pool.waitReady();
  try {
    const [M, N, K] = [9, 17, 33];
    const w = new Tensor([N, K], fillUniform(new Float32Array(N * K), 1, 7));
    const x = fillUniform(new Float32Array(M * K), 1, 8);
    const out = new Float32Array(M * N);
    k.linearHeld(out, x, w, M, N, K);
    // What weightsChanged(w) does: keep the fp32 values in the tensor, drop the packed copies.
    const v = w.keepFp32Only();
    for (let i = 0; i < v.length; i += 3) v[i] = -v[i] * 2;
    k.forget(v, w);
    const written = v.slice();
    k.linearHeld(out, x, w, M, N, K);
    assertClose(out, reference(x, written, M, N, K), 1e-5, 'after the in-place write');
    assert.equal(w.heldBytes, 0, 'held once again after repacking');
    assert.deepEqual(w.data, written);
  } finally {
    k.pool.close();
  }
});

test('a weight that shares its values with a view, or is 16-bit, keeps its JavaScript copy', { skip: !bin && 'kernels not built' }, () => {
  const k = new WasmKernels(bin!, 1);
  try {
    const [M, N, K] = [4, 8, 16];
    const w = new Tensor([N, K], fillUniform(new Float32Array(N * K), 1, 9));
    const view = w.view(N * K);
    const x = fillUniform(new Float32Array(M * K), 1, 10);
    const out = new Float32Array(M * N);
    k.linearHeld(out, x, w, M, N, K);
    assertClose(out, reference(x, view.data, M, N, K), 1e-5, 'viewed weight');
    assert.equal(w.heldBytes, N * K * 4, 'a viewed weight keeps its values (writes through the view stay visible)');
    assert.equal(w.data, view.data, 'the same array');
  } finally {
    k.pool.close();
  }
});

test('unpackPanels inverts the panel layout, padding past N ignored', () => {
  const [N, K] = [11, 3];
  const panels = Math.ceil(N / 8);
  const f32 = new Float32Array(5 + panels * K * 8).fill(NaN);
  for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) f32[5 + Math.floor(n / 8) * K * 8 + kk * 8 + (n % 8)] = n * 100 + kk;
  const w = unpackPanels(f32, 5, N, K);
  for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) assert.equal(w[n * K + kk], n * 100 + kk);
});

for (const threads of [1, 2]) {
  test(`a weight read into the kernels' memory (allocF32, ${threads} thread${threads > 1 ? 's' : ''}) is packed in place, also after the memory grew`, { skip: !bin && 'kernels not built' }, () => {
    const k = new WasmKernels(bin!, threads);
    k.pool.waitReady();
    try {
      let seed = 500;
      for (const [M, N, K] of SHAPES) {
        const w = k.allocF32(N * K);
        fillUniform(w, 1, seed++);
        assert.equal(k.heap.addressOf(w), w.byteOffset, 'recognised as living in the kernels memory');
        assert.equal(k.heap.addressOf(w.slice()), undefined, 'an ordinary copy is not');
        // Grow the memory past its current size: the old view still names the same bytes.
        const big = k.heap.alloc(k.heap.memory.buffer.byteLength);
        const x = fillUniform(new Float32Array(M * K), 1, seed++);
        const bias = fillUniform(new Float32Array(N), 1, seed++);
        const out = new Float32Array(M * N);
        const inUse = k.heap.inUse;
        k.matmulBT(out, x, w, M, N, K, bias);
        assert.equal(k.heap.inUse, inUse, 'every block of the call released, the weight left alone');
        assertClose(out, reference(x, w, M, N, K, bias), 1e-5, `matmulBT ${M}×${N}×${K}`);
        k.heap.release(big);
      }
    } finally {
      k.pool.close();
    }
  });
}
