import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AttentionKernel, MatmulKernel, RowKernels } from './types';
import { referenceRows } from './reference';
import type { Activation } from './ops';
import type { HalfStorage } from '../half';
import type { Tensor } from '../tensor';
import { unpackPanels } from './held';
import { KernelHeap } from './heap';
import { ThreadPool } from './pool';
import { flashOnWasm, type FlashDims, type WasmHost } from './wasm-flash';
import { gatherHalfOnWasm, ropeOnWasm, type RopeDims } from './wasm-tokens';
import type { MaskRule } from '../nn/mask';
import { enableRelaxedSimd, RELAXED_SIMD_FLAG, simdChoice, type SimdChoice } from './simd';

/**
 * The WebAssembly SIMD kernels (engine/kernels/asm, built by `npm run build` into dist/): one module
 * instance on the calling thread plus a pool of helper threads over one shared memory. The relaxed-SIMD
 * build is used when this runtime validates it (detected at load; simd.ts says how the CLI and the
 * extension turn it on in Node 20), plain SIMD otherwise.
 */

/** Exported kernel functions the pool may run, in one table (the helpers look them up by index). */
export const WASM_OPS = ['pack_bt', 'pack_b', 'pack_a', 'gemm', 'gemm_rows', 'gemm_half', 'gemv_half', 'softmax_rows', 'layernorm_rows', 'rmsnorm_rows', 'activate', 'attention_heads', 'flash_heads', 'rope', 'gather_half', '__crash_for_test'] as const;
export type WasmOp = (typeof WASM_OPS)[number];

/** Activation codes of asm/rows.ts; kinds not listed run in the TypeScript reference. */
const ACTIVATION_CODE: Partial<Record<Activation, number>> = { relu: 0, gelu_tanh: 1, silu: 2, sigmoid: 3, tanh: 4 };

const MR = 4;
const NR = 8;
/** Up to this many rows a linear runs row by row (decoding): no packing of x, no 4-row tiles. */
const GEMV_MAX_ROWS = 4;
/** asm/gemm.ts's k-block: each thread's widening scratch is KC × 8 floats. */
const KC = 256;
/** Below this many multiply-adds a matmul runs on the calling thread alone (waking helpers costs more). */
const PARALLEL_MIN_MACS = 1 << 19;

export interface WasmBinaries {
  variant: 'relaxed-simd' | 'simd';
  bytes: Uint8Array<ArrayBuffer>;
  file: string;
}

/** The directories that may hold the built .wasm: beside the bundle (dist/), or dist/ from the sources. */
function candidateDirs(): string[] {
  return [__dirname, path.resolve(__dirname, '../../dist'), path.resolve(process.cwd(), 'dist')];
}

/**
 * Find the built kernels: the build `choice` asks for (see simd.ts; default TRANSFORMER_INSPECTOR_SIMD),
 * relaxed SIMD when the runtime validates it and the choice allows it, plain SIMD otherwise. Undefined
 * when nothing is built; an error when relaxed SIMD is required and this runtime refuses it.
 */
export function findWasmBinaries(choice: SimdChoice = simdChoice()): WasmBinaries | undefined {
  if (choice === 'relaxed' && !enableRelaxedSimd()) {
    throw new Error(`TRANSFORMER_INSPECTOR_SIMD=relaxed, but this runtime (Node ${process.versions.node}, V8 ${process.versions.v8}) does not validate relaxed SIMD even with ${RELAXED_SIMD_FLAG}`);
  }
  for (const dir of candidateDirs()) {
    const relaxed = path.join(dir, 'kernels-relaxed.wasm');
    const simd = path.join(dir, 'kernels-simd.wasm');
    if (!fs.existsSync(simd)) continue;
    if (choice !== 'plain' && fs.existsSync(relaxed)) {
      const bytes = new Uint8Array(fs.readFileSync(relaxed));
      if (WebAssembly.validate(bytes)) return { variant: 'relaxed-simd', bytes, file: relaxed };
      if (choice === 'relaxed') throw new Error(`${relaxed} does not validate although this runtime accepts relaxed SIMD: rebuild it (npm run build)`);
    }
    if (choice === 'relaxed') continue;
    const bytes = new Uint8Array(fs.readFileSync(simd));
    if (WebAssembly.validate(bytes)) return { variant: 'simd', bytes, file: simd };
  }
  return undefined;
}

type Fn = (...a: number[]) => void;

interface Panels {
  at: number;
  N: number;
  K: number;
}

/** Matmul (and, through `ops`, every other hot op) in WebAssembly SIMD, split over the thread pool. */
export class WasmKernels implements MatmulKernel, RowKernels, AttentionKernel {
  readonly name: string;
  readonly heap = new KernelHeap();
  readonly pool: ThreadPool;
  readonly variant: WasmBinaries['variant'];
  private readonly fn: Record<WasmOp, Fn>;
  private readonly panelCache = new WeakMap<Float32Array, Panels>();
  /** Panels that are their tensor's only copy of its values (Tensor.releaseValuesTo), by tensor. */
  private readonly heldPanels = new WeakMap<Tensor, Panels>();
  private readonly freeOnCollect = new FinalizationRegistry<number>((at) => this.heap.release(at));
  /** 16-bit weights living in the shared memory, by their bits array: their address. */
  private readonly halfAt = new WeakMap<Uint16Array, number>();
  /** Per-thread scratch for widening 16-bit panels (slot · KC · 32 bytes each), sized on first use. */
  private halfScratch = 0;
  private halfScratchSlots = 0;

  constructor(bin: WasmBinaries, threads: number) {
    const module = new WebAssembly.Module(bin.bytes);
    const instance = new WebAssembly.Instance(module, {
      env: {
        memory: this.heap.memory,
        abort() {
          throw new Error('kernel abort');
        },
      },
    });
    const ex = instance.exports as Record<string, unknown>;
    this.fn = Object.fromEntries(WASM_OPS.map((o) => [o, ex[o] as Fn])) as Record<WasmOp, Fn>;
    this.pool = new ThreadPool(module, this.heap.memory, ex, WASM_OPS, threads);
    this.variant = bin.variant;
    this.name = `wasm-${bin.variant}-4x8`;
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** Run an op on the pool when the work is big enough, else here. */
  private run(op: WasmOp, args: number[], items: number, macs: number): void {
    if (macs < PARALLEL_MIN_MACS || this.pool.threads === 1) this.fn[op](...args, 0, items, 0);
    else this.pool.run(op, args, items);
  }

  /** Drop the packed panels of a weight whose values changed in place (see MatmulKernel.forget). */
  forget(w: Float32Array, tensor?: Tensor): void {
    const held = tensor && this.heldPanels.get(tensor);
    if (held) {
      this.heldPanels.delete(tensor);
      this.freeOnCollect.unregister(tensor);
      this.heap.release(held.at);
    }
    const have = this.panelCache.get(w);
    if (!have) return;
    this.panelCache.delete(w);
    this.freeOnCollect.unregister(w);
    this.heap.release(have.at);
  }

  /** The packed panels of a weight, built on first use and kept until the weight is collected or forgotten. */
  private panelsOf(w: Float32Array, N: number, K: number): Panels {
    const have = this.panelCache.get(w);
    if (have && have.N === N && have.K === K) return have;
    const panels = Math.ceil(N / NR);
    const src = this.heap.put(w);
    const at = this.heap.alloc(panels * K * NR * 4);
    this.run('pack_bt', [at, src, N, K], panels, N * K * 8);
    this.heap.release(src);
    const p = { at, N, K };
    this.panelCache.set(w, p);
    this.freeOnCollect.register(w, at, w);
    return p;
  }

  /** A bias copied in, zero-padded to whole panels (0 = no bias). */
  private biasIn(bias: Float32Array | undefined, panels: number): number {
    if (!bias) return 0;
    const at = this.heap.alloc(panels * NR * 4);
    this.heap.f32.fill(0, at >>> 2, (at >>> 2) + panels * NR);
    this.heap.f32.set(bias, at >>> 2);
    return at;
  }

  /** out = x · panels (+ bias) with x copied in and packed into row tiles (or, for few rows, read in place). */
  private gemmPanels(out: Float32Array, x: Float32Array, bPanels: number, M: number, N: number, K: number, bias?: Float32Array): void {
    const heap = this.heap;
    if (M <= GEMV_MAX_ROWS) {
      const panels = Math.ceil(N / NR);
      const xAt = heap.put(x.length === M * K ? x : x.subarray(0, M * K));
      const cAt = heap.alloc(M * N * 4);
      const biasAt = this.biasIn(bias, panels);
      try {
        this.run('gemm_rows', [cAt, xAt, bPanels, biasAt, M, N, K], panels, M * N * K);
        out.set(heap.view(cAt, M * N));
      } finally {
        heap.release(xAt);
        heap.release(cAt);
        if (biasAt) heap.release(biasAt);
      }
      return;
    }
    this.packedRows(out, x, M, N, K, bias, (cAt, aAt, biasAt, panels) => this.run('gemm', [cAt, aAt, bPanels, biasAt, M, N, K], panels, M * N * K));
  }

  /**
   * The tiled product's frame, shared by the F32 and 16-bit weights: x copied in and packed into row
   * tiles, the output and bias in the shared memory, `multiply` over the panels, the output copied out.
   */
  private packedRows(
    out: Float32Array,
    x: Float32Array,
    M: number,
    N: number,
    K: number,
    bias: Float32Array | undefined,
    multiply: (cAt: number, aAt: number, biasAt: number, panels: number) => void,
  ): void {
    const heap = this.heap;
    const tiles = Math.ceil(M / MR);
    const panels = Math.ceil(N / NR);
    const xAt = heap.put(x.length === M * K ? x : x.subarray(0, M * K));
    const aAt = heap.alloc(tiles * MR * K * 4);
    const cAt = heap.alloc(M * N * 4);
    const biasAt = this.biasIn(bias, panels);
    try {
      this.run('pack_a', [aAt, xAt, M, K], tiles, M * K * 8);
      multiply(cAt, aAt, biasAt, panels);
      out.set(heap.view(cAt, M * N));
    } finally {
      heap.release(xAt);
      heap.release(aAt);
      heap.release(cAt);
      if (biasAt) heap.release(biasAt);
    }
  }

  /**
   * `linear` for an F32 weight tensor: its panels, once packed, become its only copy of the values (the
   * tensor's Float32Array is dropped and read back from the panels when JavaScript asks for it).
   */
  linearHeld(out: Float32Array, x: Float32Array, weight: Tensor, M: number, N: number, K: number, bias?: Float32Array): void {
    let p = this.heldPanels.get(weight);
    if (!p || p.N !== N || p.K !== K) {
      if (p) this.forget(weight.data, weight); // read back, then the old shape's panels go
      const values = weight.data;
      p = this.panelsOf(values, N, K);
      const panels = p;
      if (weight.releaseValuesTo(() => unpackPanels(this.heap.f32, panels.at >>> 2, panels.N, panels.K))) {
        // The panels now live as long as the tensor, not its (dropped) Float32Array.
        this.panelCache.delete(values);
        this.freeOnCollect.unregister(values);
        this.freeOnCollect.register(weight, panels.at, weight);
        this.heldPanels.set(weight, panels);
      }
    }
    this.gemmPanels(out, x, p.at, M, N, K, bias);
  }

  linear(out: Float32Array, x: Float32Array, weight: Float32Array, M: number, N: number, K: number, bias?: Float32Array): void {
    const p = this.panelsOf(weight, N, K);
    this.gemmPanels(out, x, p.at, M, N, K, bias);
  }

  /** fp32 storage in the shared memory (a streamed layer's buffer, read straight from the file into it); freed when collected. */
  allocF32(elements: number): Float32Array {
    const { at, values } = this.heap.allocF32(elements);
    this.freeOnCollect.register(values, at);
    return values;
  }

  /** Storage for a 16-bit weight in the shared memory (read straight from the file into it). */
  allocHalf(elements: number): Uint16Array {
    const at = this.heap.alloc(elements * 2);
    const bits = new Uint16Array(this.heap.memory.buffer, at, elements);
    this.halfAt.set(bits, at);
    this.freeOnCollect.register(bits, at);
    return bits;
  }

  /** out = x · Wᵀ (+ bias) for a 16-bit weight W [N, K], widened slice by slice inside the kernel. */
  linearHalf(out: Float32Array, x: Float32Array, weight: HalfStorage, M: number, N: number, K: number, bias?: Float32Array): void {
    let at = this.halfAt.get(weight.bits);
    let copied = 0;
    if (at === undefined) {
      // Not in the shared memory (loaded before the kernels existed): a copy for this call.
      copied = at = this.heap.alloc(weight.bits.byteLength);
      new Uint16Array(this.heap.memory.buffer, at, weight.bits.length).set(weight.bits);
    }
    if (M <= GEMV_MAX_ROWS) {
      this.gemvHalf(out, x, at, weight.dtype === 'BF16' ? 1 : 0, M, N, K, bias);
      if (copied) this.heap.release(copied);
      return;
    }
    const slots = this.pool.threads + 1;
    if (slots > this.halfScratchSlots) {
      if (this.halfScratch) this.heap.release(this.halfScratch);
      this.halfScratch = this.heap.alloc(slots * KC * NR * 4);
      this.halfScratchSlots = slots;
    }
    try {
      this.packedRows(out, x, M, N, K, bias, (cAt, aAt, biasAt, panels) => {
        const args = [cAt, aAt, at, weight.dtype === 'BF16' ? 1 : 0, biasAt, this.halfScratch, M, N, K];
        if (M * N * K < PARALLEL_MIN_MACS || this.pool.threads === 1) this.fn.gemm_half(...args, 0, panels, 0);
        else this.pool.run('gemm_half', args, panels);
      });
    } finally {
      if (copied) this.heap.release(copied);
    }
  }

  /** Embedding rows of a 16-bit table [V, D] for `ids` (checked by the caller) into out [ids.length, D]. */
  gatherHalf(out: Float32Array, table: HalfStorage, ids: Int32Array, D: number, scale: number): void {
    gatherHalfOnWasm(this.host(), this.halfAt.get(table.bits), out, table, ids, D, scale);
  }

  /** Few rows against a 16-bit weight at `at`: one dot product per output, split by weight rows. */
  private gemvHalf(out: Float32Array, x: Float32Array, at: number, bf16: number, M: number, N: number, K: number, bias?: Float32Array): void {
    const heap = this.heap;
    const xAt = heap.put(x.length === M * K ? x : x.subarray(0, M * K));
    const cAt = heap.alloc(M * N * 4);
    const biasAt = bias ? heap.put(bias) : 0;
    try {
      this.run('gemv_half', [cAt, xAt, at, bf16, biasAt, M, N, K], N, M * N * K);
      out.set(heap.view(cAt, M * N));
    } finally {
      heap.release(xAt);
      heap.release(cAt);
      if (biasAt) heap.release(biasAt);
    }
  }

  matmulBT(out: Float32Array, a: Float32Array, b: Float32Array, M: number, N: number, K: number, bias?: Float32Array): void {
    const panels = Math.ceil(N / NR);
    // A streamed weight read straight into this memory (allocF32) is packed where it is: no copy in.
    const inPlace = this.heap.addressOf(b);
    const src = inPlace ?? this.heap.put(b.length === N * K ? b : b.subarray(0, N * K));
    const at = this.heap.alloc(panels * K * NR * 4);
    try {
      this.run('pack_bt', [at, src, N, K], panels, N * K * 8);
      this.gemmPanels(out, a, at, M, N, K, bias);
    } finally {
      if (inPlace === undefined) this.heap.release(src);
      this.heap.release(at);
    }
  }

  matmul(out: Float32Array, a: Float32Array, b: Float32Array, M: number, N: number, K: number): void {
    const panels = Math.ceil(N / NR);
    const src = this.heap.put(b.length === N * K ? b : b.subarray(0, N * K));
    const at = this.heap.alloc(panels * K * NR * 4);
    try {
      this.run('pack_b', [at, src, N, K], panels, N * K * 8);
      this.gemmPanels(out, a, at, M, N, K);
    } finally {
      this.heap.release(src);
      this.heap.release(at);
    }
  }

  /** x copied in, `body` run on the copy's address and an output address, the output copied to `out`. */
  private rowwise(out: Float32Array, x: Float32Array, body: (xAt: number, oAt: number) => void): void {
    const heap = this.heap;
    const xAt = heap.put(x);
    const oAt = out === x ? xAt : heap.alloc(x.byteLength);
    try {
      body(xAt, oAt);
      out.set(heap.view(oAt, x.length));
    } finally {
      heap.release(xAt);
      if (oAt !== xAt) heap.release(oAt);
    }
  }

  /** A parameter vector copied in for one call (0 = absent). */
  private vectorIn(v: Float32Array | undefined): number {
    return v ? this.heap.put(v) : 0;
  }

  softmaxRows(x: Float32Array, rows: number, n: number): void {
    this.rowwise(x, x, (xAt) => this.run('softmax_rows', [xAt, n], rows, rows * n * 8));
  }

  layerNormRows(out: Float32Array, x: Float32Array, rows: number, n: number, eps: number, gain: Float32Array | undefined, bias: Float32Array | undefined): void {
    const g = this.vectorIn(gain);
    const b = this.vectorIn(bias);
    try {
      this.rowwise(out, x.subarray(0, rows * n), (xAt, oAt) => this.run('layernorm_rows', [oAt, xAt, g, b, n, eps], rows, rows * n * 4));
    } finally {
      if (g) this.heap.release(g);
      if (b) this.heap.release(b);
    }
  }

  rmsNormRows(out: Float32Array, x: Float32Array, rows: number, n: number, eps: number, gain: Float32Array | undefined, gainOffset: number): void {
    const g = this.vectorIn(gain);
    try {
      this.rowwise(out, x.subarray(0, rows * n), (xAt, oAt) => this.run('rmsnorm_rows', [oAt, xAt, g, n, eps, gainOffset], rows, rows * n * 4));
    } finally {
      if (g) this.heap.release(g);
    }
  }

  activateInto(out: Float32Array, x: Float32Array, kind: Activation): void {
    const code = ACTIVATION_CODE[kind];
    if (code === undefined || kind === 'identity') {
      referenceRows.activateInto(out, x, kind);
      return;
    }
    this.rowwise(out, x, (xAt, oAt) => this.run('activate', [oAt, xAt, code], x.length, x.length * 16));
  }

  attention(
    out: Float32Array, scores: Float32Array, probs: Float32Array,
    q: Float32Array, k: Float32Array, v: Float32Array, mask: Uint8Array | undefined,
    dims: { B: number; H: number; Hkv: number; Tq: number; Tk: number; dk: number; dv: number },
    scale: number, fill: number,
  ): void {
    const { B, H, Hkv, Tq, Tk, dk, dv } = dims;
    const heap = this.heap;
    const qAt = heap.put(q);
    const kAt = heap.put(k);
    const vAt = heap.put(v);
    const sAt = heap.alloc(B * H * Tq * Tk * 4);
    const pAt = heap.alloc(B * H * Tq * Tk * 4);
    const oAt = heap.alloc(B * H * Tq * dv * 4);
    let mAt = 0;
    if (mask) {
      mAt = heap.alloc(mask.length);
      new Uint8Array(heap.memory.buffer, mAt, mask.length).set(mask);
    }
    try {
      const macs = B * H * Tq * Tk * (dk + dv);
      this.run('attention_heads', [oAt, sAt, pAt, qAt, kAt, vAt, mAt, H, Hkv, Tq, Tk, dk, dv, scale, fill], B * H, macs);
      scores.set(heap.view(sAt, scores.length));
      probs.set(heap.view(pAt, probs.length));
      out.set(heap.view(oAt, out.length));
    } finally {
      for (const at of [qAt, kAt, vAt, sAt, pAt, oAt]) heap.release(at);
      if (mAt) heap.release(mAt);
    }
  }

  rope(out: Float32Array, x: Float32Array, cos: Float32Array, sin: Float32Array, dims: RopeDims, step: number, partner: number, sign: number): void {
    ropeOnWasm(this.host(), out, x, cos, sin, dims, step, partner, sign);
  }

  /** What the glue of wasm-flash.ts and wasm-tokens.ts borrows: the heap and running an op. */
  private host(): WasmHost {
    return { heap: this.heap, threads: this.pool.threads, run: (op, args, items, macs) => this.run(op, args, items, macs) };
  }

  /** Tiled (flash) attention under mask rules; undefined when the rules need the TypeScript path (wasm-flash.ts). */
  flash(out: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, rules: readonly MaskRule[], dims: FlashDims, scale: number, fill: number): number | undefined {
    return flashOnWasm(this.host(), out, q, k, v, rules, dims, scale, fill);
  }

  /** Make one helper thread fail on its next chunk (tests the report-and-replace path). */
  crashOneThreadForTest(): void {
    this.pool.run('__crash_for_test', [], 1, 1);
  }
}
