/**
 * The kernels' memory: one shared WebAssembly.Memory (a SharedArrayBuffer underneath, so every kernel
 * thread sees the same bytes) and a first-fit free-list allocator over it. Blocks are 64-byte aligned.
 * The first RESERVED bytes belong to the WebAssembly module's own statics.
 */
const PAGE = 65536;
const ALIGN = 64;
const RESERVED = 1 << 20;
/** 65536 pages: the 4 GiB a 32-bit WebAssembly memory can address. */
export const MAX_PAGES = 65536;

interface Block {
  at: number;
  bytes: number;
}

export class KernelHeap {
  readonly memory: WebAssembly.Memory;
  /** Free blocks sorted by address, coalesced. */
  private free: Block[] = [];
  private top = RESERVED;
  private f32View: Float32Array;
  private u16View: Uint16Array;
  /** Bytes currently handed out (for reporting). */
  inUse = 0;

  /** The SharedArrayBuffer objects over this memory handed out so far (a new one after each growth). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(initialPages = 256) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
    this.buffers.add(this.memory.buffer);
    this.f32View = new Float32Array(this.memory.buffer);
    this.u16View = new Uint16Array(this.memory.buffer);
  }

  /** A Float32Array over the whole memory (refreshed after the memory grows). */
  get f32(): Float32Array {
    if (this.f32View.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.f32View;
  }

  get u16(): Uint16Array {
    if (this.u16View.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.u16View;
  }

  private refresh(): void {
    this.buffers.add(this.memory.buffer);
    this.f32View = new Float32Array(this.memory.buffer);
    this.u16View = new Uint16Array(this.memory.buffer);
  }

  /** A block of at least `bytes` (64-byte aligned address); grows the memory when needed. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.inUse += size;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.bytes < size) continue;
      const at = b.at;
      if (b.bytes === size) this.free.splice(i, 1);
      else {
        b.at += size;
        b.bytes -= size;
      }
      this.sizes.set(at, size);
      return at;
    }
    const at = this.top;
    const end = at + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        this.inUse -= size;
        throw new RangeError(`kernel memory: ${end} bytes needed, a 32-bit WebAssembly memory holds at most 4 GiB`);
      }
      this.memory.grow(pages);
    }
    this.top = end;
    this.sizes.set(at, size);
    return at;
  }

  private readonly sizes = new Map<number, number>();

  /** Return a block to the free list (merging with its neighbours). */
  release(at: number): void {
    const size = this.sizes.get(at);
    if (size === undefined) throw new Error(`kernel memory: ${at} is not an allocated block`);
    this.sizes.delete(at);
    this.inUse -= size;
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid].at < at) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, { at, bytes: size });
    // Merge with the next block, then with the previous one.
    const cur = this.free[lo];
    const next = this.free[lo + 1];
    if (next && cur.at + cur.bytes === next.at) {
      cur.bytes += next.bytes;
      this.free.splice(lo + 1, 1);
    }
    const prev = this.free[lo - 1];
    if (prev && prev.at + prev.bytes === cur.at) {
      prev.bytes += cur.bytes;
      this.free.splice(lo, 1);
    }
    // A free block at the top shrinks the bump pointer instead.
    const last = this.free[this.free.length - 1];
    if (last && last.at + last.bytes === this.top) {
      this.top = last.at;
      this.free.pop();
    }
  }

  /** Floats allocated in this memory, as a Float32Array the kernels read in place (see `addressOf`). */
  allocF32(n: number): { at: number; values: Float32Array } {
    const at = this.alloc(n * 4);
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return { at, values: new Float32Array(buffer, at, n) };
  }

  /** The address of an array that lives in this memory already (no copy needed), else undefined. */
  addressOf(a: Float32Array): number | undefined {
    return this.buffers.has(a.buffer) ? a.byteOffset : undefined;
  }

  /** Copy a Float32Array in (returns its address). */
  put(src: Float32Array): number {
    const at = this.alloc(src.byteLength);
    this.f32.set(src, at >>> 2);
    return at;
  }

  /** A view of `n` floats at `at` (valid until the memory grows). */
  view(at: number, n: number): Float32Array {
    return this.f32.subarray(at >>> 2, (at >>> 2) + n);
  }
}
