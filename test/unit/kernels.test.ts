import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { referenceMatmul } from '../../engine/kernels/reference';
import { blockedMatmul } from '../../engine/kernels/blocked';
import { matmulKernelNames, registerMatmul, useMatmul, matmulKernel } from '../../engine/kernels';
import { fillUniform } from '../../engine/model/rng';

test('every registered matmul kernel agrees bit for bit with the reference (x·Wᵀ + b and x·W)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 13 }), fc.boolean(), fc.integer(), (M, N, K, withBias, seed) => {
      const a = fillUniform(new Float32Array(M * K), 1, seed);
      const b = fillUniform(new Float32Array(N * K), 1, seed + 1);
      const bias = withBias ? fillUniform(new Float32Array(N), 1, seed + 2) : undefined;
      const want = new Float32Array(M * N);
      referenceMatmul.matmulBT(want, a, b, M, N, K, bias);
      const got = new Float32Array(M * N);
      blockedMatmul.matmulBT(got, a, b, M, N, K, bias);
      assert.deepEqual(got, want);
      // And against a plain triple loop.
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[i * K + k] * b[j * K + k];
          if (bias) s += bias[j];
          assert.equal(want[i * N + j], Math.fround(s));
        }
    }),
    { numRuns: 200 },
  );
});

test('the kernel registry refuses duplicate names and unknown kernels', () => {
  assert.ok(matmulKernelNames().includes('ts-reference'));
  assert.throws(() => registerMatmul(referenceMatmul), /already registered/);
  assert.throws(() => useMatmul('no-such-kernel'), /no matmul kernel named/);
  const before = matmulKernel().name;
  useMatmul('ts-reference');
  assert.equal(matmulKernel().name, 'ts-reference');
  useMatmul(before);
});
