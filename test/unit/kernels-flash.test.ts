import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionKernel, matmulKernel, setKernelThreads, useMatmul, wasmKernels } from '../../engine/kernels';
import { flashAttention } from '../../engine/nn/attention';
import { MASKED_FILL, type MaskRule } from '../../engine/nn/mask';
import { Tensor } from '../../engine/tensor';
import { fillUniform } from '../../engine/model/rng';
import { assertClose } from '../helpers/close';

/**
 * The tiled (flash) attention path on the WebAssembly kernels (asm/flash.ts) against the TypeScript
 * flash (the reference, f64), on awkward sizes (1, 3, 17, 4099 keys), grouped-query heads, every mask
 * rule it encodes and their combinations, with 1 and 2 threads; rules it cannot encode fall back.
 */

const wasm = wasmKernels();
assert.ok(wasm, 'the WebAssembly kernels are built (npm run build)');
const fast = wasm.name;

function rand(shape: number[], seed: number): Tensor {
  const t = new Tensor(shape);
  fillUniform(t.data, 1.5, seed);
  return t;
}

/** The TypeScript flash's output, then the active (WebAssembly) one's. */
function both(q: Tensor, k: Tensor, v: Tensor, rules: MaskRule[]): [Float32Array, Float32Array] {
  useMatmul('ts-reference');
  const want = flashAttention(q, k, v, rules).output.data;
  useMatmul(fast);
  return [want, flashAttention(q, k, v, rules).output.data];
}

// [B, H, Hkv, Tq, Tk, dk, dv]
const SHAPES: [number, number, number, number, number, number, number][] = [
  [1, 1, 1, 1, 1, 1, 1],
  [1, 2, 1, 3, 3, 3, 5],
  [2, 3, 3, 17, 17, 17, 3],
  [1, 4, 2, 3, 4099, 17, 16],
  [1, 2, 2, 1, 4099, 64, 64],
  [2, 6, 2, 33, 40, 8, 8],
];

const RULES = (B: number, Tk: number): MaskRule[][] => [
  [],
  [{ kind: 'causal' }],
  [{ kind: 'causal' }, { kind: 'sliding_window', window: 5 }],
  [{ kind: 'sliding_window', window: 7 }, { kind: 'sliding_window', window: 3 }],
  [{ kind: 'chunked', size: 4 }],
  [{ kind: 'strided', stride: 3 }, { kind: 'causal' }],
  [{ kind: 'causal' }, { kind: 'padding', valid: Array.from({ length: B }, (_, b) => Array.from({ length: Tk }, (_, j) => (j % (b + 2) === 1 ? 0 : 1))) }],
  // Every key padded away for batch 0: the fully masked rows average V, as the reference does.
  [{ kind: 'padding', valid: Array.from({ length: B }, (_, b) => new Array<number>(Tk).fill(b === 0 ? 0 : 1)) }],
];

for (const threads of [1, 2]) {
  test(`WebAssembly flash attention (${threads} thread${threads > 1 ? 's' : ''}) equals the TypeScript flash: awkward sizes, GQA, every encodable mask rule`, () => {
    setKernelThreads(threads);
    try {
      let seed = 1;
      for (const [B, H, Hkv, Tq, Tk, dk, dv] of SHAPES) {
        const q = rand([B, H, Tq, dk], seed++);
        const k = rand([B, Hkv, Tk, dk], seed++);
        const v = rand([B, Hkv, Tk, dv], seed++);
        for (const rules of RULES(B, Tk)) {
          const [want, got] = both(q, k, v, rules);
          assertClose(got, want, 1e-5, `flash B${B} H${H}/${Hkv} Tq${Tq} Tk${Tk} dk${dk} dv${dv} rules ${JSON.stringify(rules.map((r) => r.kind))}`);
        }
      }
    } finally {
      setKernelThreads(undefined);
    }
  });
}

test('rules the WebAssembly flash cannot encode (a custom matrix, two chunk sizes) run the TypeScript flash', () => {
  useMatmul(fast);
  const kernel = attentionKernel();
  assert.ok(kernel?.flash, 'the active attention kernel has a flash path');
  const [B, H, T, d] = [1, 2, 5, 4];
  const q = rand([B, H, T, d], 7);
  const k = rand([B, H, T, d], 8);
  const v = rand([B, H, T, d], 9);
  const custom: MaskRule[] = [{ kind: 'custom', allow: Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => ((i + j) % 2 === 0 ? 1 : 0))) }];
  const twoChunks: MaskRule[] = [{ kind: 'chunked', size: 2 }, { kind: 'chunked', size: 3 }];
  for (const rules of [custom, twoChunks]) {
    const out = new Float32Array(B * H * T * d).fill(42);
    assert.equal(kernel.flash(out, q.data, k.data, v.data, rules, { B, H, Hkv: H, Tq: T, Tk: T, dk: d, dv: d }, 0.5, MASKED_FILL), undefined);
    assert.ok(out.every((x) => x === 42), 'nothing written when the rules are refused');
    const [want, got] = both(q, k, v, rules);
    assert.deepEqual(got, want, 'the fallback is the TypeScript flash itself');
  }
  assert.equal(matmulKernel().name, fast);
});
