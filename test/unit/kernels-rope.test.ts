import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowKernels, setKernelThreads, useMatmul, wasmKernels } from '../../engine/kernels';
import { applyRope, type RopeLayout } from '../../engine/nn/rope';
import { Tensor } from '../../engine/tensor';
import { fillUniform } from '../../engine/model/rng';

/**
 * Rotary embedding on the WebAssembly kernels (asm/rope.ts) against engine/nn/rope.ts's TypeScript loop
 * (the reference): bit for bit, on awkward sizes (T = 1, 3, 17, 4099), every layout, partial rotary
 * dims, a position offset (decoding), with 1 and 2 threads.
 */

const wasm = wasmKernels();
assert.ok(wasm, 'the WebAssembly kernels are built (npm run build)');

// [B, T, H, D, rotaryDim, offset]
const SHAPES: [number, number, number, number, number, number][] = [
  [1, 1, 1, 2, 2, 0],
  [1, 3, 2, 6, 6, 5],
  [2, 17, 3, 8, 4, 0],
  [1, 4099, 1, 6, 6, 0],
  [2, 3, 17, 64, 64, 4096],
  [1, 17, 4, 80, 32, 1],
];

for (const threads of [1, 2]) {
  test(`WebAssembly RoPE (${threads} thread${threads > 1 ? 's' : ''}) equals the TypeScript loop bit for bit: every layout, partial dims, offsets`, () => {
    setKernelThreads(threads);
    try {
      let seed = 3;
      for (const [B, T, H, D, rotaryDim, offset] of SHAPES) {
        const x = new Tensor([B, T, H, D]);
        fillUniform(x.data, 2, seed++);
        for (const layout of ['half', 'interleaved', 'tutorial_neg'] as RopeLayout[]) {
          const spec = { layout, theta: 10000, rotaryDim };
          useMatmul('ts-reference');
          assert.equal(rowKernels().rope, undefined, 'the reference row kernels run the TypeScript loop');
          const want = applyRope(x, spec, offset);
          useMatmul(wasm.name);
          assert.ok(rowKernels().rope, 'the WebAssembly row kernels have RoPE');
          const got = applyRope(x, spec, offset);
          assert.deepEqual(got.shape, want.shape);
          const what = `${layout} B${B} T${T} H${H} D${D} rot${rotaryDim} offset ${offset}`;
          for (let i = 0; i < want.data.length; i++) if (!Object.is(got.data[i], want.data[i])) assert.fail(`${what}: [${i}] ${got.data[i]} vs ${want.data[i]}`);
        }
      }
    } finally {
      setKernelThreads(undefined);
    }
  });
}
