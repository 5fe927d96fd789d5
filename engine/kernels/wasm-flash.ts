import type { MaskRule } from '../nn/mask';
import type { KernelHeap } from './heap';
import type { WasmOp } from './wasm';

/**
 * The tiled (flash) attention path on the WebAssembly kernels (asm/flash.ts): mask rules encoded as a
 * few numbers and one [B, Tk] padding byte array, so memory stays O(T) as in the TypeScript path.
 * Rules it cannot encode (an explicit `custom` matrix, two different chunk sizes or strides) return
 * undefined: the caller then runs the TypeScript flash.
 */

/** asm/flash.ts's key tile (FT). */
const FT = 32;

export interface FlashDims {
  B: number;
  H: number;
  Hkv: number;
  Tq: number;
  Tk: number;
  dk: number;
  dv: number;
}

interface EncodedRules {
  causal: number;
  window: number;
  chunk: number;
  stride: number;
  /** [B, Tk] bytes, 1 = a key every query may see (undefined: no padding rule). */
  valid?: Uint8Array;
}

/** The rules as asm/flash.ts takes them, or undefined when they do not fit that form. */
export function encodeRules(rules: readonly MaskRule[], B: number, Tk: number): EncodedRules | undefined {
  const e: EncodedRules = { causal: 0, window: 0, chunk: 0, stride: 0 };
  for (const r of rules) {
    switch (r.kind) {
      case 'causal':
        e.causal = 1;
        break;
      case 'sliding_window':
        if (!(r.window >= 1)) return undefined;
        e.window = e.window ? Math.min(e.window, r.window) : r.window; // both windows hold: the narrower
        break;
      case 'chunked':
        if (!(r.size >= 1) || (e.chunk && e.chunk !== r.size)) return undefined;
        e.chunk = r.size;
        break;
      case 'strided':
        if (!(r.stride >= 1) || (e.stride && e.stride !== r.stride)) return undefined;
        e.stride = r.stride;
        break;
      case 'padding': {
        const valid = (e.valid ??= new Uint8Array(B * Tk).fill(1));
        for (let b = 0; b < B; b++) for (let j = 0; j < Tk; j++) if ((r.valid[b]?.[j] ?? 1) === 0) valid[b * Tk + j] = 0;
        break;
      }
      case 'custom':
        return undefined;
    }
  }
  for (const n of [e.window, e.chunk, e.stride]) if (!Number.isInteger(n) || n > 2 ** 31 - 1) return undefined;
  return e;
}

/** What wasm.ts lends its glue files: its heap, its thread count, and running an op over items on the pool. */
export interface WasmHost {
  readonly heap: KernelHeap;
  readonly threads: number;
  run(op: WasmOp, args: number[], items: number, macs: number): void;
}

/**
 * out [B·H, Tq, dv] = flash attention of q [B·H, Tq, dk], k [B·Hkv, Tk, dk], v [B·Hkv, Tk, dv] under
 * `rules`; returns the scratch bytes it used (per thread: a key tile of scores and one output row), or
 * undefined (nothing computed) when the rules cannot be encoded.
 */
export function flashOnWasm(
  host: WasmHost, out: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array,
  rules: readonly MaskRule[], dims: FlashDims, scale: number, fill: number,
): number | undefined {
  const { B, H, Hkv, Tq, Tk, dk, dv } = dims;
  const enc = encodeRules(rules, B, Tk);
  if (!enc) return undefined;
  const heap = host.heap;
  const slots = host.threads + 1;
  const scratchBytes = slots * (FT + dv) * 4;
  const qAt = heap.put(q);
  const kAt = heap.put(k);
  const vAt = heap.put(v);
  const oAt = heap.alloc(B * H * Tq * dv * 4);
  const sAt = heap.alloc(scratchBytes);
  let validAt = 0;
  if (enc.valid) {
    validAt = heap.alloc(enc.valid.length);
    new Uint8Array(heap.memory.buffer, validAt, enc.valid.length).set(enc.valid);
  }
  try {
    const args = [oAt, qAt, kAt, vAt, validAt, H, Hkv, Tq, Tk, dk, dv, scale, fill, enc.causal, enc.window, enc.chunk, enc.stride, sAt];
    host.run('flash_heads', args, B * H, B * H * Tq * Tk * (dk + dv));
    out.set(heap.view(oAt, B * H * Tq * dv));
  } finally {
    for (const at of [qAt, kAt, vAt, oAt, sAt]) heap.release(at);
    if (validAt) heap.release(validAt);
  }
  return scratchBytes;
}
