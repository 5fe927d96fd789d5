import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowKernels, setKernelThreads, useMatmul, wasmKernels } from '../../engine/kernels';
import { Embedding } from '../../engine/nn/embedding';
import { Tensor } from '../../engine/tensor';
import { mulberry32 } from '../../engine/model/rng';
import { isInspectorError } from '../../engine/errors';

/**
 * Embedding gathers from a 16-bit table on the WebAssembly kernels (asm/gemm_half.ts gather_half) against
 * the TypeScript path (widenHalf per row): bit for bit, BF16 and F16 (specials included), with a scale,
 * in the kernels' memory and outside it, awkward sizes (D = 1, 3, 17, 4099), 1 and 2 threads; bad ids
 * are still refused with a named error before anything is gathered.
 */

const wasm = wasmKernels();
assert.ok(wasm, 'the WebAssembly kernels are built (npm run build)');

function table(V: number, D: number, seed: number, inKernels: boolean): Uint16Array {
  const bits = inKernels ? wasm!.allocHalf(V * D) : new Uint16Array(V * D);
  const rand = mulberry32(seed);
  for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(rand() * 65536);
  bits[0] = 0x7c00; // F16 +∞ (BF16: a large number)
  if (bits.length > 1) bits[1] = 0x0001; // the smallest F16 subnormal
  return bits;
}

for (const threads of [1, 2]) {
  test(`16-bit embedding gathers (${threads} thread${threads > 1 ? 's' : ''}) equal the TypeScript path bit for bit`, () => {
    setKernelThreads(threads);
    try {
      let seed = 9;
      for (const [V, D, B, T] of [[1, 1, 1, 1], [5, 3, 2, 3], [40, 17, 1, 17], [7, 4099, 1, 3], [300, 64, 3, 130]]) {
        for (const dtype of ['BF16', 'F16'] as const) {
          for (const inKernels of [true, false]) {
            for (const scale of [1, Math.sqrt(D)]) {
              const weight = Tensor.fromHalf([V, D], { dtype, bits: table(V, D, seed++, inKernels) });
              const emb = new Embedding(weight, scale);
              const rand = mulberry32(seed++);
              const ids = Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(rand() * V)));
              useMatmul('ts-reference');
              assert.equal(rowKernels().gatherHalf, undefined);
              const want = emb.forward(ids).data;
              useMatmul(wasm!.name);
              const got = emb.forward(ids).data;
              const what = `${dtype} V${V} D${D} B${B} T${T} scale ${scale} ${inKernels ? 'in' : 'outside'} the kernels' memory`;
              assert.equal(got.length, want.length, what);
              for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: [${i}] ${got[i]} vs ${want[i]}`);
            }
          }
        }
      }
    } finally {
      setKernelThreads(undefined);
    }
  });
}

test('a 16-bit table still refuses an id outside the vocabulary, naming it', () => {
  useMatmul(wasm.name);
  const emb = new Embedding(Tensor.fromHalf([4, 2], { dtype: 'BF16', bits: table(4, 2, 1, true) }));
  assert.throws(() => emb.forward([[0, 4]]), (e) => isInspectorError(e) && /id 4 at position 1 is outside the vocabulary \(0 … 3\)/.test(e.message));
});
