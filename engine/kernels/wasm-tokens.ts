import type { HalfStorage } from '../half';
import type { WasmHost } from './wasm-flash';

/**
 * The per-token ops on the WebAssembly kernels: rotary embedding (asm/rope.ts) and embedding rows
 * gathered from a 16-bit table (asm/gemm_half.ts gather_half). Both give the TypeScript paths' bits.
 */

export interface RopeDims {
  /** B·T */
  rows: number;
  T: number;
  H: number;
  D: number;
  half: number;
}

/** out [rows, H, D] = x rotated (see RowKernels.rope), split by rows. */
export function ropeOnWasm(host: WasmHost, out: Float32Array, x: Float32Array, cos: Float32Array, sin: Float32Array, dims: RopeDims, step: number, partner: number, sign: number): void {
  const { rows, T, H, D, half } = dims;
  const heap = host.heap;
  const xAt = heap.put(x.subarray(0, rows * H * D));
  const cAt = heap.put(cos);
  const sAt = heap.put(sin);
  const oAt = heap.alloc(rows * H * D * 4);
  try {
    host.run('rope', [oAt, xAt, cAt, sAt, T, H, D, half, step, partner, sign], rows, rows * H * half * 16);
    out.set(heap.view(oAt, rows * H * D));
  } finally {
    for (const at of [xAt, cAt, sAt, oAt]) heap.release(at);
  }
}

/**
 * out [ids.length, D] = the table's rows for ids, widened (· scale). `tableAt`: the table's address when
 * it lives in the kernels' memory (read in place), else undefined (copied in for this call).
 */
export function gatherHalfOnWasm(host: WasmHost, tableAt: number | undefined, out: Float32Array, table: HalfStorage, ids: Int32Array, D: number, scale: number): void {
  const heap = host.heap;
  let at = tableAt;
  let copied = 0;
  if (at === undefined) {
    copied = at = heap.alloc(table.bits.byteLength);
    new Uint16Array(heap.memory.buffer, at, table.bits.length).set(table.bits);
  }
  const idsAt = heap.alloc(ids.byteLength);
  new Int32Array(heap.memory.buffer, idsAt, ids.length).set(ids);
  const oAt = heap.alloc(ids.length * D * 4);
  try {
    host.run('gather_half', [oAt, at, idsAt, table.dtype === 'BF16' ? 1 : 0, D, scale], ids.length, ids.length * D * 4);
    out.set(heap.view(oAt, ids.length * D));
  } finally {
    heap.release(idsAt);
    heap.release(oAt);
    if (copied) heap.release(copied);
  }
}
