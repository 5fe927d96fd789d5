import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { quantizeRtn, quantizeAbsmaxInt8, dequantize, roundHalfEven } from '../../engine/quant/rtn';
import { gptqQuantize, hessian } from '../../engine/quant/gptq';
import { awqQuantize } from '../../engine/quant/awq';
import { int8Matmul } from '../../engine/quant/llm-int8';
import { relError, project } from '../../engine/quant/metrics';
import { fillUniform } from '../../engine/model/rng';

/**
 * Properties of the quantizers on random layers: GPTQ and AWQ never lose to RTN on the calibration
 * output error they minimise; per-channel int8 is at least as good as per-tensor; LLM.int8() with α = ∞ is
 * plain vector-wise int8 and with α = 0 is the float product.
 */

interface Layer {
  x: Float32Array;
  w: Float32Array;
  M: number;
  N: number;
  K: number;
}

/** A random layer whose input channels have very different magnitudes (as real activations do). */
const layerArb = fc
  .record({ N: fc.integer({ min: 4, max: 24 }), kGroups: fc.integer({ min: 1, max: 4 }), M: fc.integer({ min: 48, max: 96 }), seed: fc.integer({ min: 0, max: 1e6 }), spread: fc.double({ min: 0, max: 3, noNaN: true }) })
  .map(({ N, kGroups, M, seed, spread }): Layer => {
    const K = 16 * kGroups;
    const x = new Float32Array(M * K);
    const w = new Float32Array(N * K);
    fillUniform(x, 1, seed);
    fillUniform(w, 1, seed + 1);
    const chan = new Float32Array(K);
    fillUniform(chan, 1, seed + 2);
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) x[m * K + k] *= Math.exp(spread * chan[k]);
    // Correlated inputs (shared component) make the Hessian non-diagonal, where GPTQ's updates matter.
    for (let m = 0; m < M; m++) for (let k = 1; k < K; k++) x[m * K + k] += 0.5 * x[m * K];
    return { x, w, M, N, K };
  });

const outErr = (l: Layer, deq: Float32Array) => relError(project(l.x, l.M, l.K, l.w, l.N), project(l.x, l.M, l.K, deq, l.N));
const gridArb = fc.record({ bits: fc.integer({ min: 2, max: 4 }), grouped: fc.boolean(), sym: fc.boolean() });

test('GPTQ’s calibration output error ≤ RTN’s at the same bits and groups', () => {
  fc.assert(
    fc.property(layerArb, gridArb, fc.boolean(), (l, g, actOrder) => {
      const grid = { bits: g.bits, group: g.grouped ? 16 : undefined, sym: g.sym };
      const rtn = outErr(l, dequantize(quantizeRtn(l.w, l.N, l.K, grid)));
      const gptq = outErr(l, dequantize(gptqQuantize(l.w, l.N, l.K, hessian(l.x, l.M, l.K, 1), { ...grid, actOrder })));
      return gptq <= rtn * (1 + 1e-6);
    }),
    { numRuns: 40, seed: 12 },
  );
});

test('AWQ’s calibration output error ≤ RTN’s (scale search alone, and with the clipping search)', () => {
  fc.assert(
    fc.property(layerArb, gridArb, (l, g) => {
      const grid = { bits: g.bits, group: g.grouped ? 16 : undefined, sym: g.sym };
      const rtn = outErr(l, dequantize(quantizeRtn(l.w, l.N, l.K, grid)));
      const scaled = awqQuantize(l.x, l.M, l.K, [{ name: 'down_proj', w: l.w, N: l.N }], grid, false);
      const awq = outErr(l, dequantize(scaled.weights[0]));
      assert.ok(scaled.alpha >= 0 && scaled.alpha < 1);
      const clipped = outErr(l, dequantize(awqQuantize(l.x, l.M, l.K, [{ name: 'down_proj', w: l.w, N: l.N }], grid, true).weights[0]));
      return awq <= rtn * (1 + 1e-6) && clipped <= rtn * (1 + 1e-6);
    }),
    { numRuns: 40, seed: 12 },
  );
});

test('int8 absmax per output channel: each row within half its own scale (≤ the tensor’s), and less error when rows differ', () => {
  fc.assert(
    fc.property(layerArb, fc.double({ min: 1, max: 4, noNaN: true }), (l, rowSpread) => {
      // Rows of different magnitudes (a factor up to e^(2·rowSpread) apart), as real weight rows are.
      const w = Float32Array.from(l.w, (v, i) => v * Math.exp(rowSpread * Math.sin(1 + Math.floor(i / l.K))));
      const perChannel = quantizeAbsmaxInt8(w, l.N, l.K, false);
      const perTensor = quantizeAbsmaxInt8(w, l.N, l.K, true);
      const dq = dequantize(perChannel);
      for (let n = 0; n < l.N; n++) {
        assert.ok(perChannel.scales[n] <= perTensor.scales[n]);
        for (let k = 0; k < l.K; k++) assert.ok(Math.abs(w[n * l.K + k] - dq[n * l.K + k]) <= perChannel.scales[n] / 2 + 1e-7);
      }
      return relError(w, dq) <= relError(w, dequantize(perTensor)) * (1 + 1e-6);
    }),
    { numRuns: 60, seed: 12 },
  );
});

/** Vector-wise int8 written out independently: absmax codes per row of X and of W, exact integer sums. */
function vectorwiseInt8(x: Float32Array, M: number, K: number, w: Float32Array, N: number): Float32Array {
  const codes = (a: Float32Array, R: number) => {
    const c: number[][] = [];
    const mx: number[] = [];
    for (let r = 0; r < R; r++) {
      const row = [...a.subarray(r * K, (r + 1) * K)];
      const m = Math.max(...row.map(Math.abs));
      mx.push(m);
      c.push(row.map((v) => (m === 0 ? 0 : roundHalfEven(Math.fround(v * Math.fround(127 / m))))));
    }
    return { c, mx };
  };
  const a = codes(x, M);
  const b = codes(w, N);
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += a.c[m][k] * b.c[n][k];
      y[m * N + n] = (acc * a.mx[m] * b.mx[n]) / (127 * 127);
    }
  }
  return y;
}

test('LLM.int8(): α = ∞ is vector-wise int8, α = 0 is the float product, and outliers are found', () => {
  fc.assert(
    fc.property(layerArb, (l) => {
      const inf = int8Matmul(l.x, l.M, l.K, l.w, l.N, Infinity);
      assert.deepEqual(inf.outliers, []);
      assert.deepEqual([...inf.y], [...vectorwiseInt8(l.x, l.M, l.K, l.w, l.N)]);
      const zero = int8Matmul(l.x, l.M, l.K, l.w, l.N, 0);
      assert.equal(zero.outliers.length, l.K);
      const float = project(l.x, l.M, l.K, l.w, l.N);
      assert.ok(relError(float, zero.y) < 1e-6, `α = 0 differs from float by ${relError(float, zero.y)}`);
      // A middle threshold: each outlier dimension really has some |x| ≥ α, and no other dimension does.
      const alpha = 2;
      const mid = int8Matmul(l.x, l.M, l.K, l.w, l.N, alpha);
      for (let k = 0; k < l.K; k++) {
        let any = false;
        for (let m = 0; m < l.M; m++) any ||= Math.abs(l.x[m * l.K + k]) >= alpha;
        assert.equal(mid.outliers.includes(k), any, `dimension ${k}`);
      }
      return relError(float, mid.y) <= relError(float, inf.y) * (1 + 1e-6) || mid.outliers.length === 0;
    }),
    { numRuns: 30, seed: 12 },
  );
});
