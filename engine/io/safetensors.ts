import * as fs from 'node:fs';
import type { HalfStorage } from '../half';
import { Tensor, numel } from '../tensor';
import { InspectorError } from '../errors';
import { openGuarded } from './guarded';
import { checkJsonDepth } from '../config/json';
import { visit } from 'jsonc-parser';

/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {..}}`, then the data.
 * The reader validates the whole header before any tensor is read and reads only the tensors asked for.
 */
export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

/** Dtypes the engine reads as weights (all widened to fp32). */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte offsets in the file. */
  readonly begin: number;
  readonly end: number;
}

/** A header larger than this is refused before it is read (the reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * The largest tensor read as one piece (bytes): a Buffer and the fp32 copy must each be allocatable.
 * 2³¹ − 1 bytes is below every Node version's Buffer limit.
 */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

export class SafetensorsFile {
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;

  private constructor(
    readonly path: string,
    tensors: Map<string, TensorInfo>,
    metadata: Record<string, string>,
    private readonly fileSize: number,
  ) {
    this.tensors = tensors;
    this.metadata = metadata;
  }

  static open(path: string): SafetensorsFile {
    const f = openGuarded(path, 'weights');
    try {
      const { tensors, metadata } = parseHeader(path, f.size, (buf, pos) => {
        f.readAt(buf, pos, 'safetensors header');
        return buf.length;
      });
      return new SafetensorsFile(path, tensors, metadata, f.size);
    } finally {
      f.close();
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo | undefined {
    return this.tensors.get(name);
  }

  /** Read one tensor as fp32. */
  read(name: string): Tensor {
    const info = this.tensors.get(name);
    if (!info) throw new InspectorError(`no tensor named '${name}' in the file`, { file: this.path, tensor: name });
    if (!FLOAT_DTYPES.includes(info.dtype)) {
      throw new InspectorError(`tensor has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64`, {
        file: this.path,
        tensor: name,
      });
    }
    const length = info.end - info.begin;
    if (length > MAX_TENSOR_BYTES) {
      throw new InspectorError(
        `tensor is ${(length / 1e9).toFixed(2)} GB (${info.dtype} [${info.shape.join(', ')}]): larger than one tensor the engine can hold (${(MAX_TENSOR_BYTES / 1e9).toFixed(2)} GB); the size analysis (params) still works`,
        { file: this.path, tensor: name },
      );
    }
    // Reopened through the guarded reader: the file must still be the regular file whose header was read.
    const f = openGuarded(this.path, 'weights');
    let bytes: Buffer;
    try {
      if (f.size !== this.fileSize) throw new InspectorError(`the weights file changed size since its header was read (${this.fileSize} → ${f.size} bytes)`, { file: this.path, tensor: name });
      bytes = Buffer.alloc(length);
      f.readAt(bytes, info.begin, `tensor '${name}'`);
    } finally {
      f.close();
    }
    return new Tensor(info.shape, decodeFloats(bytes, info.dtype));
  }

  /**
   * Read an F16/BF16 tensor's raw bits, unwidened, into storage from `alloc` (e.g. the kernels' shared
   * memory), so a 16-bit weight is read once, straight into the one place it is kept.
   */
  readHalf(name: string, alloc: (elements: number) => Uint16Array = (n) => new Uint16Array(n)): HalfStorage {
    const info = this.tensors.get(name);
    if (!info) throw new InspectorError(`no tensor named '${name}' in the file`, { file: this.path, tensor: name });
    if (info.dtype !== 'F16' && info.dtype !== 'BF16') throw new Error(`readHalf: ${name} is ${info.dtype}`);
    const bits = alloc((info.end - info.begin) / 2);
    const bytes = new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
    const fd = fs.openSync(this.path, 'r');
    try {
      let got = 0;
      while (got < bytes.length) {
        const n = fs.readSync(fd, bytes, got, Math.min(bytes.length - got, 1 << 30), info.begin + got);
        if (n === 0) throw new InspectorError(`file ended after ${got} of ${bytes.length} bytes of this tensor`, { file: this.path, tensor: name });
        got += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return { dtype: info.dtype, bits };
  }
}

/** Validate a header: size, JSON, dtypes, shapes × dtype = byte length, offsets inside the file, no overlaps. */
export function parseHeader(
  path: string,
  fileSize: number,
  readAt: (buf: Buffer, position: number) => number,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const place = { file: path };
  if (fileSize < 8) throw new InspectorError(`not a safetensors file: ${fileSize} bytes is too short for the 8-byte header length`, place);
  const lenBuf = Buffer.alloc(8);
  readAt(lenBuf, 0);
  const headerLen = lenBuf.readBigUInt64LE(0);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new InspectorError(`header length ${headerLen} bytes is larger than the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`, place);
  }
  const n = Number(headerLen);
  if (8 + n > fileSize) {
    throw new InspectorError(`header claims ${n} bytes but the file has only ${fileSize - 8} after the length (truncated file)`, place);
  }
  const headerBuf = Buffer.alloc(n);
  readAt(headerBuf, 8);
  let header: unknown;
  const headerText = headerBuf.toString('utf8');
  checkJsonDepth(headerText, path);
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw new InspectorError(`header is not valid JSON (${(e as Error).message})`, place);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new InspectorError('header must be a JSON object', place);
  }
  const duplicate = firstDuplicateKey(headerText);
  if (duplicate !== undefined) throw new InspectorError(`the header names tensor '${short(duplicate)}' twice`, { file: path, tensor: duplicate });
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    const at = { file: path, tensor: name };
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InspectorError('__metadata__ must be an object', at);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new InspectorError(`__metadata__ values must be strings; '${short(k)}' is ${Array.isArray(v) ? 'an array' : typeof v}`, at);
      }
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    if (typeof raw !== 'object' || raw === null) throw new InspectorError('header entry must be an object', at);
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new InspectorError(`unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`, at);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new InspectorError(`shape ${JSON.stringify(shape)} must be a list of non-negative integers`, at);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new InspectorError(`data_offsets ${JSON.stringify(offsets)} must be two non-negative integers`, at);
    }
    const [b, e] = offsets as [number, number];
    const expected = numel(shape as number[]) * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (e < b) throw new InspectorError(`data_offsets [${b}, ${e}] end before they begin`, at);
    if (e - b !== expected) {
      throw new InspectorError(`shape [${shape.join(', ')}] × ${dtype} needs ${expected} bytes but data_offsets [${b}, ${e}] span ${e - b}`, at);
    }
    if (e > dataSize) {
      throw new InspectorError(`data_offsets [${b}, ${e}] point past the end of the data (${dataSize} bytes; truncated file?)`, at);
    }
    tensors.set(name, { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
  }
  // As the reference implementation checks: the tensors tile the data, without overlaps or holes.
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let end = dataStart;
  for (const [i, t] of sorted.entries()) {
    if (t.begin < end) {
      throw new InspectorError(`tensors '${sorted[i - 1].name}' and '${t.name}' overlap in the data`, { file: path, tensor: t.name });
    }
    if (t.begin > end) {
      const before = i > 0 ? `after '${sorted[i - 1].name}'` : 'at the start of the data';
      throw new InspectorError(`${t.begin - end} unused bytes ${before}, before this tensor (the tensors must cover the data without holes)`, { file: path, tensor: t.name });
    }
    end = t.end;
  }
  if (end !== fileSize) {
    throw new InspectorError(`${fileSize - end} bytes after the last tensor's data are not part of any tensor`, { file: path });
  }
  return { tensors, metadata };
}

/** The first top-level key named twice in a JSON object text (JSON.parse would keep only the last). */
function firstDuplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let found: string | undefined;
  visit(text, {
    onObjectBegin: () => void depth++,
    onObjectEnd: () => void depth--,
    onArrayBegin: () => void depth++,
    onArrayEnd: () => void depth--,
    onObjectProperty: (name) => {
      if (depth !== 1 || found !== undefined) return;
      if (seen.has(name)) found = name;
      seen.add(name);
    },
  });
  return found;
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

export function decodeFloats(bytes: Buffer, dtype: SafetensorsDtype): Float32Array {
  const n = bytes.length / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      // safetensors is little-endian, as are the machines this runs on: copy the bytes as they are.
      new Uint8Array(out.buffer).set(bytes);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = bytes.readDoubleLE(i * 8);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes.readUInt16LE(i * 2));
      return out;
    case 'BF16': {
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = bytes.readUInt16LE(i * 2) << 16;
      return out;
    }
    default:
      throw new Error(`cannot decode ${dtype} as floats`);
  }
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Write fp32 tensors as a safetensors file (header padded with spaces to a multiple of 8 bytes). */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  fs.writeFileSync(path, encodeSafetensors(tensors, metadata));
}

export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): Buffer {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.size * 4] };
    offset += t.size * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, pos);
    pos += t.size * 4;
  }
  return out;
}
