import * as fs from 'node:fs';
import { f32Allocator, weightsChanged } from '../kernels';
import { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import { halfToFloat, type SafetensorsFile, type TensorInfo } from '../io/safetensors';
import type { FileWeights, WeightSource } from './weights';

/**
 * Layer streaming: a weight source whose tensors hold no values until a layer uses them. A tensor is read
 * from the safetensors shards (its byte range only) when the layer first uses it; tensors are kept and
 * released by layer: when the resident layers would exceed the memory budget, the least recently used ones
 * are released (their buffers are reused for the next layer of the same shapes). So a forward pass holds about two layers'
 * weights at a time, and going back to an earlier layer re-reads it. Nothing in the layers knows: they read
 * `tensor.data` as always. Results are bit-identical to the in-memory model (the same bytes, the same fp32).
 */
export class StreamingWeights implements WeightSource {
  readonly seeded = false;
  private readonly groups = new Map<string, Group>();
  /** Groups holding values, least recently used first (a Map keeps insertion order). */
  private readonly resident = new Map<string, Group>();
  /** Released buffers by length, reused by the next group of the same shapes. */
  private readonly pool = new Map<number, Float32Array[]>();
  private residentBytes = 0;
  private pooledBytes = 0;
  /** Most bytes of weights held at once, and how many group reads there were (for the CLI and tests). */
  peakBytes = 0;
  reads = 0;
  private scratch = Buffer.alloc(0);
  private readonly byName = new Map<string, SafetensorsFile>();

  constructor(
    private readonly files: FileWeights,
    readonly budgetBytes: number,
  ) {
    for (const f of files.files) for (const n of f.names()) this.byName.set(n, f);
  }

  get description(): string {
    return `${this.files.description} (streamed layer by layer, ${formatBytes(this.budgetBytes)} budget)`;
  }

  names(): string[] {
    return this.files.names();
  }

  shapeOf(name: string): readonly number[] | undefined {
    return this.files.shapeOf(name);
  }

  fileOf(name: string): string | undefined {
    return this.files.fileOf(name);
  }

  /** A tensor of the file that reads its layer when first used. */
  read(name: string): Tensor {
    const file = this.byName.get(name);
    const info = file?.info(name);
    if (!file || !info) throw new InspectorError('missing tensor', { tensor: name });
    const t = new StreamedTensor(info.shape, this, this.group(groupOf(name)), { kind: 'file', file, info });
    t.groupRef.members.push(t);
    return t;
  }

  /** A tensor computed from a streamed one (a transpose, a slice): in its group, recomputed after a release. */
  derive(from: StreamedTensor, shape: readonly number[], compute: (src: Float32Array, out: Float32Array) => void): StreamedTensor {
    const t = new StreamedTensor(shape, this, from.groupRef, { kind: 'derived', from, compute });
    from.groupRef.members.push(t);
    return t;
  }

  /** Bytes of fp32 weights the file holds (what the in-memory model would allocate, before derived copies). */
  weightBytes(): number {
    let n = 0;
    for (const name of this.files.names()) n += numelOf(this.files.shapeOf(name)!) * 4;
    return n;
  }

  /** Bytes the weights take in their files (what one pass reads). */
  fileBytes(): number {
    let n = 0;
    for (const [name, f] of this.byName) {
      const i = f.info(name)!;
      n += i.end - i.begin;
    }
    return n;
  }

  /** Called by a StreamedTensor without values: make its group resident, then hand it its values. */
  supply(t: StreamedTensor): Float32Array {
    const g = t.groupRef;
    if (!this.resident.has(g.key)) {
      this.resident.set(g.key, g);
      this.reads++;
    } else {
      // Most recently used goes last.
      this.resident.delete(g.key);
      this.resident.set(g.key, g);
    }
    // A derived tensor needs its source first (which may read the group).
    const src = t.origin.kind === 'derived' ? t.origin.from.data : undefined;
    this.makeRoom(g, t.size);
    const values = this.take(t.size);
    if (t.origin.kind === 'file') this.readInto(values, t.origin.file, t.origin.info);
    else t.origin.compute(src as Float32Array, values);
    g.bytes += values.byteLength;
    this.residentBytes += values.byteLength;
    this.peakBytes = Math.max(this.peakBytes, this.residentBytes + this.pooledBytes);
    return values;
  }

  private group(key: string): Group {
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { key, members: [], bytes: 0 }));
    return g;
  }

  /**
   * Before a tensor of `length` values is held: release least recently used groups while that would exceed
   * the budget, never the group in use nor the one used just before it (code may still hold an array of the previous
   * group while it reads this one's: `matmul(w.data, b.data)`). So the budget must hold two layers.
   */
  private makeRoom(current: Group, length: number): void {
    const need = this.pool.get(length)?.length ? 0 : length * 4;
    const over = () => this.residentBytes + this.pooledBytes + need > this.budgetBytes;
    const keep = [...this.resident.keys()].slice(-2);
    for (const [key, g] of this.resident) {
      if (!over()) break;
      if (g === current || keep.includes(key)) continue;
      for (const m of g.members) {
        const v = m.release();
        if (v) this.give(v);
      }
      this.residentBytes -= g.bytes;
      g.bytes = 0;
      this.resident.delete(key);
    }
    // Pooled buffers nobody reused are dropped once the budget is exceeded.
    for (const [len, list] of this.pool) {
      while (list.length && over() && len !== length) {
        list.pop();
        this.pooledBytes -= len * 4;
      }
    }
  }

  private take(length: number): Float32Array {
    const list = this.pool.get(length);
    const v = list?.pop();
    if (v) {
      this.pooledBytes -= v.byteLength;
      return v;
    }
    return f32Allocator()?.(length) ?? new Float32Array(length);
  }

  private give(v: Float32Array): void {
    const list = this.pool.get(v.length) ?? [];
    list.push(v);
    this.pool.set(v.length, list);
    this.pooledBytes += v.byteLength;
  }

  /** Read one tensor's byte range straight into `out` (F32), or through a reused scratch buffer (16/64-bit). */
  private readInto(out: Float32Array, file: SafetensorsFile, info: TensorInfo): void {
    const n = info.end - info.begin;
    const f32 = info.dtype === 'F32';
    if (!f32 && this.scratch.length < n) this.scratch = Buffer.from(new ArrayBuffer(n)); // offset 0: aligned for 16-bit views
    const target = f32 ? new Uint8Array(out.buffer, out.byteOffset, n) : this.scratch.subarray(0, n);
    let fd: number;
    try {
      fd = fs.openSync(file.path, 'r');
    } catch (e) {
      throw new InspectorError(`cannot read this layer's weights again: ${(e as Error).message}`, { file: file.path, tensor: info.name });
    }
    try {
      let got = 0;
      while (got < n) {
        const r = fs.readSync(fd, target, got, n - got, info.begin + got);
        if (r === 0) break;
        got += r;
      }
      if (got !== n) throw new InspectorError(`file ended after ${got} of ${n} bytes of this tensor`, { file: file.path, tensor: info.name });
    } finally {
      fs.closeSync(fd);
    }
    if (!f32) decodeInto(out, this.scratch, info);
  }
}

interface Group {
  readonly key: string;
  readonly members: StreamedTensor[];
  /** Bytes of values its members hold now. */
  bytes: number;
}

type Origin =
  | { kind: 'file'; file: SafetensorsFile; info: TensorInfo }
  | { kind: 'derived'; from: StreamedTensor; compute: (src: Float32Array, out: Float32Array) => void };

/** A weight whose values are read from its file (or computed from one that is) when first used. */
export class StreamedTensor extends Tensor {
  constructor(
    shape: readonly number[],
    readonly source: StreamingWeights,
    readonly groupRef: Group,
    readonly origin: Origin,
  ) {
    super(shape, undefined, true);
  }

  get resident(): boolean {
    return this.values !== undefined;
  }

  override get transient(): boolean {
    return true;
  }

  protected override load(): Float32Array {
    const v = this.source.supply(this);
    this.values = v;
    return v;
  }

  /** Drop the values (the source reuses the buffer); the next read of `data` reads them again. */
  release(): Float32Array | undefined {
    const v = this.values;
    this.values = undefined;
    // The buffer will hold another tensor's values: kernels must not keep a packed copy of these.
    if (v) weightsChanged(v);
    return v;
  }
}

/**
 * The layer a weight belongs to: its name up to the first numeric segment (`model.layers.3`, `h.3`,
 * `model.decoder.layers.1`), so all of a layer's tensors (experts included) load together; other tensors
 * group by their module (`lm_head`, `model.embed_tokens`, `cls.predictions.transform.dense`).
 */
export function groupOf(name: string): string {
  const m = /^(.*?\.\d+)\./.exec(name);
  if (m) return m[1];
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** A tensor computed from `t`: streamed (and recomputed after a release) when `t` is, else computed now. */
export function deriveTensor(t: Tensor, shape: readonly number[], compute: (src: Float32Array, out: Float32Array) => void): Tensor {
  if (t instanceof StreamedTensor) return t.source.derive(t, shape, compute);
  if (t instanceof ShapeOnlyTensor) return new ShapeOnlyTensor(shape);
  const out = new Tensor(shape);
  compute(t.data, out.data);
  return out;
}

/** A parameter with a shape and no values: the module tree of a model that is described, never run. */
export class ShapeOnlyTensor extends Tensor {
  constructor(shape: readonly number[]) {
    super(shape, undefined, true);
  }

  protected override load(): Float32Array {
    throw new InspectorError('this model has the shapes of its config but no weights (it describes a recorded trace, which is never recomputed)');
  }
}

/**
 * A weight source of shapes only: building a model on it allocates nothing, whatever its size, and gives
 * the module tree, the parameter counts and the hook names' shapes. Reading a value is an error.
 */
export const SHAPES_ONLY: WeightSource = {
  description: 'shapes only (no weights)',
  seeded: false,
  names: () => [],
  shapeOf: () => undefined,
  read: (name) => {
    throw new InspectorError('no weights: a shapes-only model', { tensor: name });
  },
  fileOf: () => undefined,
  shaped: (shape) => new ShapeOnlyTensor(shape),
};

function decodeInto(out: Float32Array, bytes: Buffer, info: TensorInfo): void {
  const n = out.length;
  switch (info.dtype) {
    case 'BF16': {
      // bf16 is the top half of an fp32 (little-endian machines, as safetensors is).
      const u32 = new Uint32Array(out.buffer, out.byteOffset, n);
      const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      for (let i = 0; i < n; i++) u32[i] = u16[i] << 16;
      return;
    }
    case 'F16': {
      const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(u16[i]);
      return;
    }
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = bytes.readDoubleLE(i * 8);
      return;
    default:
      throw new InspectorError(`tensor has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64`, { tensor: info.name });
  }
}

function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

/** `150MB`, `4GB`, `512MiB`, `2e9` → bytes. */
export function parseSize(text: string, flag = '--memory-budget'): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(text);
  if (!m) throw new InspectorError(`${flag}: "${text}" is not a size (e.g. 150MB, 4GB)`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const scale = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }[unit]!;
  const bytes = Math.round(Number(m[1]) * scale);
  if (!(bytes > 0)) throw new InspectorError(`${flag}: the budget must be more than 0 bytes`);
  return bytes;
}
