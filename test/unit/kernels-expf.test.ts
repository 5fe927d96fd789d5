import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findWasmBinaries, WasmKernels } from '../../engine/kernels/wasm';
import { referenceRows } from '../../engine/kernels/reference';

/**
 * The f32 exponential of the WebAssembly kernels (asm/expf.ts: softmax, GELU, SiLU, sigmoid), in both
 * builds chosen explicitly: element by element against the f64 formulas over a wide range, and the
 * special values (±∞, NaN, ±0, subnormals, the underflow and overflow edges).
 */

const builds = (['plain', 'relaxed'] as const).map((choice) => {
  const bin = findWasmBinaries(choice);
  assert.ok(bin, `the ${choice} WebAssembly build exists (npm run build)`);
  return new WasmKernels(bin, 1);
});

const SQRT_2_OVER_PI = 0.7978845608028654;
/** The activations in f64, in the forms that do not cancel (GELU as v / (1 + e^(−2u))). */
const F64: Record<'gelu_tanh' | 'silu' | 'sigmoid', (v: number) => number> = {
  gelu_tanh: (v) => v / (1 + Math.exp(-2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))),
  silu: (v) => v / (1 + Math.exp(-v)),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
};

/** The exponential's argument: GELU's 2u is itself computed in f32 (as PyTorch does), so its rounding shows in e^(2u). */
const ARG: Record<keyof typeof F64, (v: number) => number> = {
  gelu_tanh: (v) => 2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v),
  silu: (v) => v,
  sigmoid: (v) => v,
};

/**
 * The worst ratio of got's relative error to its bound, 4e-7 (a few ulp) + 2.5e-7·|argument| (an ulp
 * or two of an f32 argument, scaled by the exponential), over elements whose exact value is a normal f32.
 */
function worstRatio(got: Float32Array, x: Float32Array, kind: keyof typeof F64): { ratio: number; at: number; rel: number } {
  let ratio = 0;
  let at = 0;
  let rel = 0;
  for (let i = 0; i < x.length; i++) {
    const e = F64[kind](x[i]);
    if (Math.abs(e) < 1.2e-38) continue; // subnormal results: judged on absolute error below
    const r = Math.abs(got[i] - e) / Math.abs(e);
    const q = r / (4e-7 + 2.5e-7 * Math.abs(ARG[kind](x[i])));
    if (q > ratio) [ratio, at, rel] = [q, x[i], r];
  }
  return { ratio, at, rel };
}

for (const k of builds) {
  test(`${k.name}: GELU, SiLU and sigmoid within a few ulp of f64 over [−90, 90] (odd length: the scalar tail too)`, () => {
    const n = 180_003;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -90 + (180 * i) / (n - 1);
    const got = new Float32Array(n);
    for (const kind of ['gelu_tanh', 'silu', 'sigmoid'] as const) {
      k.activateInto(got, x, kind);
      const { ratio, at, rel } = worstRatio(got, x, kind);
      assert.ok(ratio <= 1, `${kind}: relative error ${rel.toExponential(2)} at x = ${at} (${ratio.toFixed(2)} × its bound)`);
      if (kind !== 'gelu_tanh') assert.ok(rel < 4e-7, `${kind}: relative error ${rel.toExponential(2)} at x = ${at}`);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - F64[kind](x[i])) < 1e-38 || Math.abs(F64[kind](x[i])) >= 1.2e-38, `${kind}(${x[i]}) = ${got[i]}`);
    }
  });

  test(`${k.name}: activations of ±∞, NaN, ±0, subnormals and the exp range edges match the reference`, () => {
    const x = new Float32Array([Infinity, -Infinity, NaN, 0, -0, 1e-40, -1e-40, 88.3, 88.5, -87.3, -87.4, -104, 104, 3, -3]);
    const want = new Float32Array(x.length);
    const got = new Float32Array(x.length);
    for (const kind of ['gelu_tanh', 'silu', 'sigmoid'] as const) {
      referenceRows.activateInto(want, x, kind);
      k.activateInto(got, x, kind);
      for (let i = 0; i < x.length; i++) {
        const [a, e] = [got[i], want[i]];
        if (Number.isNaN(e)) assert.ok(Number.isNaN(a), `${kind}(${x[i]}) = ${a}, want NaN`);
        else assert.ok(a === e || Math.abs(a - e) <= 4e-7 * Math.abs(e) || Math.abs(a - e) < 1e-37, `${kind}(${x[i]}) = ${a}, want ${e}`);
      }
    }
  });

  test(`${k.name}: softmax rows with huge negative (masked) entries give exact zeros and sum to 1`, () => {
    const n = 19;
    const rows = 3;
    const x = new Float32Array(rows * n);
    for (let i = 0; i < x.length; i++) x[i] = i % 3 === 0 ? -3.4028234663852886e38 : Math.sin(i) * 40;
    x.fill(-3.4028234663852886e38, 2 * n, 3 * n); // a fully masked row: uniform, as the reference
    const want = x.slice();
    const got = x.slice();
    referenceRows.softmaxRows(want, rows, n);
    k.softmaxRows(got, rows, n);
    for (let i = 0; i < x.length; i++) {
      if (want[i] === 0) assert.equal(got[i], 0, `masked entry ${i}`);
      else assert.ok(Math.abs(got[i] - want[i]) <= 1e-6 * want[i] + 1e-38, `entry ${i}: ${got[i]} vs ${want[i]}`);
    }
    for (let r = 0; r < rows; r++) assert.ok(Math.abs(got.subarray(r * n, (r + 1) * n).reduce((s, v) => s + v, 0) - 1) < 1e-6);
  });
}
