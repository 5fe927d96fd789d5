import { readGuarded } from './guarded';
import { InspectorError } from '../errors';
import { Tensor, shapeToString } from '../tensor';
import { ggmlTypeName, byteSize, dequantizeInto, BLOCK, type GgmlTypeName } from './ggml-quants';

/**
 * A GGUF file (llama.cpp; gguf.md in ggml): magic `GGUF`, version (2 or 3), tensor count, metadata count,
 * the metadata key/values, the tensor infos (name, dims innermost first, ggml type, offset into the data),
 * then the tensor data from the next multiple of `general.alignment` (32). Every length, count and offset
 * is checked against the file before it is used. Reads are synchronous, like the rest of weight loading
 * (the maintained `@huggingface/gguf` parser is asynchronous and fetch-based, and does not dequantize).
 */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  /** PyTorch order (outermost first): ggml's ne reversed. */
  shape: number[];
  type: GgmlTypeName;
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/** Metadata larger than this (strings, arrays) is refused before it is allocated. */
const MAX_ITEMS = 50_000_000;

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly file: string,
  ) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new InspectorError(`the file ends inside the header (${what} at byte ${this.pos})`, { file: this.file });
  }
  u8(): number {
    this.need(1, 'u8');
    return this.buf[this.pos++];
  }
  u32(): number {
    this.need(4, 'u32');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InspectorError(`${what} ${v} is too large`, { file: this.file });
    return Number(v);
  }
  string(what: string): string {
    const n = this.u64(`length of ${what}`);
    this.need(n, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

function readValue(r: Reader, type: number, key: string): GgufValue {
  const b = r.buf;
  const scalar = SCALAR_BYTES[type];
  if (scalar !== undefined) {
    r.need(scalar, key);
    const p = r.pos;
    r.pos += scalar;
    switch (type) {
      case 0: return b.readUInt8(p);
      case 1: return b.readInt8(p);
      case 2: return b.readUInt16LE(p);
      case 3: return b.readInt16LE(p);
      case 4: return b.readUInt32LE(p);
      case 5: return b.readInt32LE(p);
      case 6: return b.readFloatLE(p);
      case 7: return b[p] !== 0;
      case 10: return b.readBigUInt64LE(p);
      case 11: return b.readBigInt64LE(p);
      default: return b.readDoubleLE(p);
    }
  }
  if (type === 8) return r.string(key);
  if (type === 9) {
    const inner = r.u32();
    const n = r.u64(`length of array ${key}`);
    const min = SCALAR_BYTES[inner] ?? 8;
    if (n > MAX_ITEMS || r.pos + n * min > b.length) throw new InspectorError(`array ${key} of ${n} items does not fit in the file`, { file: r.file, key });
    const out: GgufValue[] = new Array<GgufValue>(n);
    for (let i = 0; i < n; i++) out[i] = readValue(r, inner, key);
    return out;
  }
  throw new InspectorError(`unknown metadata value type ${type}`, { file: r.file, key });
}

export class GgufFile {
  private constructor(
    readonly path: string,
    readonly version: number,
    readonly metadata: ReadonlyMap<string, GgufValue>,
    readonly tensors: ReadonlyMap<string, GgufTensorInfo>,
  ) {}

  static open(path: string): GgufFile {
    return GgufFile.parse(readGuarded(path, 'gguf'), path);
  }

  static parse(buf: Buffer, file: string): GgufFile {
    const r = new Reader(buf, file);
    if (buf.length < 4 || buf.toString('latin1', 0, 4) !== 'GGUF') throw new InspectorError('not a GGUF file (no GGUF magic)', { file });
    r.pos = 4;
    const version = r.u32();
    if (version !== 2 && version !== 3) throw new InspectorError(`GGUF version ${version} is not supported (have: 2, 3)`, { file });
    const tensorCount = r.u64('tensor count');
    const kvCount = r.u64('metadata count');
    if (tensorCount > MAX_ITEMS || kvCount > MAX_ITEMS) throw new InspectorError(`implausible counts (${tensorCount} tensors, ${kvCount} metadata keys)`, { file });
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = r.string('metadata key');
      metadata.set(key, readValue(r, r.u32(), key));
    }
    const infos: { name: string; ne: number[]; type: GgmlTypeName; offset: number }[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = r.string('tensor name');
      const nDims = r.u32();
      if (nDims < 1 || nDims > 4) throw new InspectorError(`tensor has ${nDims} dimensions (ggml has 1 to 4)`, { file, tensor: name });
      const ne = Array.from({ length: nDims }, () => r.u64(`dimension of ${name}`));
      const type = ggmlTypeName(r.u32(), { file, tensor: name });
      infos.push({ name, ne, type, offset: r.u64(`offset of ${name}`) });
    }
    const alignValue = metadata.get('general.alignment') ?? 32;
    const alignment = typeof alignValue === 'number' ? alignValue : Number(alignValue);
    if (!Number.isInteger(alignment) || alignment <= 0 || alignment & (alignment - 1)) {
      throw new InspectorError(`general.alignment must be a power of two, got ${String(alignValue)}`, { file, key: 'general.alignment' });
    }
    const dataStart = Math.ceil(r.pos / alignment) * alignment;
    const tensors = new Map<string, GgufTensorInfo>();
    for (const t of infos) {
      const place = { file, tensor: t.name };
      const n = t.ne.reduce((a, b) => a * b, 1);
      if (t.ne[0] % BLOCK[t.type].elements) {
        throw new InspectorError(`rows of ${t.ne[0]} elements are not whole ${t.type} blocks of ${BLOCK[t.type].elements}`, place);
      }
      const bytes = byteSize(t.type, n, place);
      if (t.offset % alignment) throw new InspectorError(`data offset ${t.offset} is not a multiple of the alignment ${alignment}`, place);
      const begin = dataStart + t.offset;
      const end = begin + bytes;
      if (end > buf.length) {
        throw new InspectorError(`${t.type} ${shapeToString([...t.ne].reverse())} needs bytes ${begin}…${end} but the file has ${buf.length} (truncated, or a wrong offset)`, place);
      }
      if (tensors.has(t.name)) throw new InspectorError('tensor name appears twice', place);
      tensors.set(t.name, { name: t.name, shape: [...t.ne].reverse(), type: t.type, begin, end });
    }
    const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].begin < sorted[i - 1].end) {
        throw new InspectorError(`data overlaps tensor '${sorted[i - 1].name}' (offsets lie)`, { file, tensor: sorted[i].name });
      }
    }
    return new GgufFile(file, version, metadata, tensors).withBuffer(buf);
  }

  private buf?: Buffer;
  private withBuffer(buf: Buffer): this {
    this.buf = buf;
    return this;
  }

  /** The tensor dequantized to float32, in PyTorch shape. */
  read(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new InspectorError('missing tensor', { file: this.path, tensor: name });
    const n = t.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    const bytes = this.buf!.subarray(t.begin, t.end);
    // A copy aligned for the DataView reads (file data need not be 4-byte aligned in memory).
    dequantizeInto(out, new Uint8Array(bytes), t.type, n);
    return new Tensor(t.shape, out);
  }

  raw(name: string): Uint8Array {
    const t = this.tensors.get(name)!;
    return new Uint8Array(this.buf!.subarray(t.begin, t.end));
  }
}
