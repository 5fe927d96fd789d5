/**
 * Exporting a traced tensor, whole (every batch element, no striding), as NumPy's .npy or as JSON.
 *
 * .npy format version 1.0 (numpy.lib.format): the magic string "\x93NUMPY", major 1, minor 0, a
 * little-endian uint16 header length, then an ASCII Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and ended by '\n'
 * so that magic + version + length + header is a multiple of 64 bytes; then the data, C order.
 */
import type { Step } from '../trace/step';
import type { Exported } from '../../protocol/worker';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93 N U M P Y
const PREAMBLE = MAGIC.length + 2 + 2; // magic, version, header length
const ALIGN = 64;

export function npyHeader(shape: readonly number[]): string {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
  const unpadded = PREAMBLE + dict.length + 1; // + '\n'
  const pad = (ALIGN - (unpadded % ALIGN)) % ALIGN;
  return dict + ' '.repeat(pad) + '\n';
}

export function encodeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`npy: shape [${shape.join(', ')}] needs ${n} values, got ${data.length}`);
  const header = npyHeader(shape);
  if (header.length > 0xffff) throw new Error('npy: header too long for format version 1.0');
  const out = new Uint8Array(PREAMBLE + header.length + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[PREAMBLE + i] = header.charCodeAt(i);
  const body = PREAMBLE + header.length;
  for (let i = 0; i < data.length; i++) view.setFloat32(body + i * 4, data[i], true);
  return out;
}

/** JSON: the hook name, symbolic dims, shape, and the values as a flat row-major list (NaN/±Inf as strings). */
export function encodeTensorJson(name: string, dims: readonly string[], shape: readonly number[], data: Float32Array): Uint8Array {
  const values = Array.from(data, (v) => (Number.isFinite(v) ? v : String(v)));
  const text = JSON.stringify({ name, dims, shape, dtype: 'float32', order: 'row-major', data: values });
  return new TextEncoder().encode(text + '\n');
}

/** A step's tensor as the bytes of the export format, with its name and shape. */
export function exportStep(step: Step, format: 'npy' | 'json'): Exported {
  const shape = [...step.tensor.shape];
  const bytes = format === 'npy' ? encodeNpy(shape, step.tensor.data) : encodeTensorJson(step.name, step.dims, shape, step.tensor.data);
  return { kind: 'exported', name: step.name, shape, bytes };
}
