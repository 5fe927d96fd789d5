import * as os from 'node:os';
import type { AttentionKernel, MatmulKernel, RowKernels } from './types';
import type { Tensor } from '../tensor';
import type { Activation } from './ops';
import { referenceMatmul, referenceRows } from './reference';
import { blockedMatmul } from './blocked';
import { findWasmBinaries, WasmKernels } from './wasm';

export type { AttentionKernel, MatmulKernel, RowKernels } from './types';

const registry = new Map<string, MatmulKernel>();
/** The chosen kernel; undefined = the default (WebAssembly SIMD when built, else the blocked TypeScript one). */
let active: MatmulKernel | undefined;
/** The WebAssembly kernels: undefined = not looked for yet, null = not built / not supported here. */
let wasm: WasmKernels | null | undefined;
let threads = defaultThreads();

/** Kernel threads by default: the machine's available parallelism (TRANSFORMER_INSPECTOR_THREADS overrides). */
export function defaultThreads(): number {
  const env = Number(process.env.TRANSFORMER_INSPECTOR_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Register a matmul implementation under its name; a duplicate name is a programming error. */
export function registerMatmul(kernel: MatmulKernel): void {
  if (registry.has(kernel.name)) throw new Error(`matmul kernel '${kernel.name}' is already registered`);
  registry.set(kernel.name, kernel);
}

/** The WebAssembly SIMD kernels with their thread pool, created on first use; undefined if not built. */
export function wasmKernels(): WasmKernels | undefined {
  if (wasm === undefined) {
    const bin = process.env.TRANSFORMER_INSPECTOR_NO_WASM ? undefined : findWasmBinaries();
    wasm = bin ? new WasmKernels(bin, threads) : null;
    if (wasm) registerMatmul(wasm);
  }
  return wasm ?? undefined;
}

export function useMatmul(name: string): void {
  wasmKernels();
  const k = registry.get(name);
  if (!k) throw new Error(`no matmul kernel named '${name}' (have: ${[...registry.keys()].join(', ')})`);
  active = k;
}

/**
 * Weights whose values were (or are about to be) changed in place: a tensor keeps only its fp32 values
 * (its 16-bit storage is dropped), and every kernel that keeps packed copies of weights drops theirs.
 * Whoever writes into a parameter's values after a forward pass may have used it calls this; a bare
 * array is a buffer about to be reused for other values.
 */
export function weightsChanged(...weights: (Tensor | Float32Array)[]): void {
  for (const w of weights) {
    const values = w instanceof Float32Array ? w : w.keepFp32Only();
    for (const k of registry.values()) k.forget?.(values, w instanceof Float32Array ? undefined : w);
  }
}

export function matmulKernel(): MatmulKernel {
  return (active ??= wasmKernels() ?? blockedMatmul);
}

/**
 * The row kernels (softmax, norms, activations) that go with the active matmul: the WebAssembly ones
 * when the WebAssembly matmul is active, else the TypeScript reference.
 */
export function rowKernels(): RowKernels {
  const mm = matmulKernel();
  return mm === wasm ? (mm as WasmKernels) : referenceRows;
}

/** A fused attention kernel to go with the active matmul (the WebAssembly one), or undefined: layers then compose matmuls. */
export function attentionKernel(): AttentionKernel | undefined {
  const mm = matmulKernel();
  return mm === wasm ? (mm as WasmKernels) : undefined;
}

export function matmulKernelNames(): string[] {
  wasmKernels();
  return [...registry.keys()];
}

/**
 * Where 16-bit weights are kept: the WebAssembly kernels' shared memory (so the kernels read them in
 * place), or ordinary memory when those kernels are not in use.
 */
export function halfAllocator(): ((elements: number) => Uint16Array) | undefined {
  const w = matmulKernel() === wasm ? wasm : undefined;
  return w ? (n) => w.allocHalf(n) : undefined;
}

/**
 * Where a streamed layer's fp32 buffers are allocated: the WebAssembly kernels' shared memory (so its
 * per-call packing reads them in place, with no copy in), or ordinary memory when those kernels are not
 * in use. The allocator returns undefined when the kernels' 4 GiB are full (then ordinary memory).
 */
export function f32Allocator(): ((elements: number) => Float32Array | undefined) | undefined {
  const w = matmulKernel() === wasm ? wasm : undefined;
  return w
    ? (n) => {
        try {
          return w.allocF32(n);
        } catch (e) {
          if (e instanceof RangeError) return undefined;
          throw e;
        }
      }
    : undefined;
}

/** Set the kernel threads (undefined: the default); returns the count in use. */
export function setKernelThreads(n?: number): number {
  threads = Math.max(1, n ?? defaultThreads());
  if (wasm) wasm.pool.resize(threads);
  return threads;
}

export function kernelThreads(): number {
  return threads;
}

/** The active kernels in one line, for bench output. */
export function kernelDescription(): string {
  return matmulKernel().name;
}

registerMatmul(referenceMatmul);
registerMatmul(blockedMatmul);

/**
 * An activation chosen once, when a layer is built (the kind is bound here, never read again): it runs
 * on the row kernels active at call time, so switching to the reference kernels still applies.
 */
export function activationFor(kind: Activation): (out: Float32Array, x: Float32Array) => void {
  return (out, x) => rowKernels().activateInto(out, x, kind);
}
