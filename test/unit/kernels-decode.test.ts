import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceMatmul } from '../../engine/kernels/reference';
import { setKernelThreads, wasmKernels } from '../../engine/kernels';
import { fillUniform } from '../../engine/model/rng';
import { assertClose } from '../helpers/close';

/**
 * The decoding path of the WebAssembly linear (≤ 4 rows: asm/gemm.ts gemm_rows, four 8-column panels at a
 * time, then one at a time) against the TypeScript reference: every row count it takes, column counts
 * around the 32-column group (a partial last panel inside a group and in the tail), with and without
 * bias, with 1 and 2 threads.
 */

const wasm = wasmKernels();
assert.ok(wasm, 'the WebAssembly kernels are built (npm run build)');

for (const threads of [1, 2]) {
  test(`WebAssembly linear with 1–4 rows (${threads} thread${threads > 1 ? 's' : ''}) equals the reference around the 4-panel groups`, () => {
    setKernelThreads(threads);
    try {
      let seed = 50;
      for (const M of [1, 2, 3, 4]) {
        for (const N of [1, 8, 25, 30, 32, 33, 61, 4099]) {
          for (const K of [1, 3, 17, 768]) {
            const x = fillUniform(new Float32Array(M * K), 1, seed++);
            const w = fillUniform(new Float32Array(N * K), 1, seed++);
            const bias = seed % 2 ? fillUniform(new Float32Array(N), 1, seed++) : undefined;
            const want = new Float32Array(M * N);
            const got = new Float32Array(M * N).fill(NaN);
            referenceMatmul.matmulBT(want, x, w, M, N, K, bias);
            wasm.linear(got, x, w, M, N, K, bias);
            assertClose(got, want, 1e-5, `linear ${M}×${N}×${K} bias ${!!bias}`);
          }
        }
      }
    } finally {
      setKernelThreads(undefined);
    }
  });
}
