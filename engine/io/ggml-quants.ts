import { InspectorError, type Place } from '../errors';
import { halfToFloat } from './safetensors';

/**
 * ggml's tensor types and their reference dequantization (ggml-quants.c `dequantize_row_*`, block layouts
 * from ggml-common.h), in float32 arithmetic in the same order as the reference, so the results equal
 * `gguf.quants.dequantize` bit for bit.
 */
export const GGML_TYPES = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q8_0: 8,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  BF16: 30,
} as const;
export type GgmlTypeName = keyof typeof GGML_TYPES;

const QK_K = 256;

/** Elements per block and bytes per block of each supported type. */
export const BLOCK: Record<GgmlTypeName, { elements: number; bytes: number }> = {
  F32: { elements: 1, bytes: 4 },
  F16: { elements: 1, bytes: 2 },
  BF16: { elements: 1, bytes: 2 },
  Q4_0: { elements: 32, bytes: 2 + 16 },
  Q4_1: { elements: 32, bytes: 2 + 2 + 16 },
  Q5_0: { elements: 32, bytes: 2 + 4 + 16 },
  Q8_0: { elements: 32, bytes: 2 + 32 },
  Q4_K: { elements: QK_K, bytes: 2 + 2 + 12 + QK_K / 2 },
  Q5_K: { elements: QK_K, bytes: 2 + 2 + 12 + QK_K / 8 + QK_K / 2 },
  Q6_K: { elements: QK_K, bytes: QK_K / 2 + QK_K / 4 + QK_K / 16 + 2 },
};

const NAMES = new Map<number, GgmlTypeName>(Object.entries(GGML_TYPES).map(([k, v]) => [v, k as GgmlTypeName]));

export function ggmlTypeName(type: number, place: Place): GgmlTypeName {
  const name = NAMES.get(type);
  if (!name) throw new InspectorError(`ggml type ${type} is not supported (have: ${Object.keys(GGML_TYPES).join(', ')})`, place);
  return name;
}

/** Bytes of n elements of a type (n a multiple of the block size). */
export function byteSize(type: GgmlTypeName, n: number, place: Place): number {
  const b = BLOCK[type];
  if (n % b.elements) throw new InspectorError(`${n} elements do not fill whole ${type} blocks of ${b.elements}`, place);
  return (n / b.elements) * b.bytes;
}

const f32 = Math.fround;

/** ggml-quants.c get_scale_min_k4. */
function scaleMinK4(j: number, q: Uint8Array, at: number): [number, number] {
  if (j < 4) return [q[at + j] & 63, q[at + j + 4] & 63];
  return [(q[at + j + 4] & 0xf) | ((q[at + j - 4] >> 6) << 4), (q[at + j + 4] >> 4) | ((q[at + j] >> 6) << 4)];
}

/** Dequantize n elements of `type` from bytes into y. */
export function dequantizeInto(y: Float32Array, b: Uint8Array, type: GgmlTypeName, n: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const h = (at: number) => halfToFloat(dv.getUint16(at, true));
  const { elements, bytes } = BLOCK[type];
  const blocks = n / elements;
  switch (type) {
    case 'F32':
      for (let i = 0; i < n; i++) y[i] = dv.getFloat32(i * 4, true);
      return;
    case 'F16':
      for (let i = 0; i < n; i++) y[i] = h(i * 2);
      return;
    case 'BF16': {
      const u = new Uint32Array(y.buffer, y.byteOffset, n);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      return;
    }
    case 'Q8_0':
      for (let i = 0; i < blocks; i++) {
        const o = i * bytes;
        const d = h(o);
        for (let j = 0; j < 32; j++) y[i * 32 + j] = f32(dv.getInt8(o + 2 + j) * d);
      }
      return;
    case 'Q4_0':
      for (let i = 0; i < blocks; i++) {
        const o = i * bytes;
        const d = h(o);
        for (let j = 0; j < 16; j++) {
          const q = b[o + 2 + j];
          y[i * 32 + j] = f32(((q & 0xf) - 8) * d);
          y[i * 32 + j + 16] = f32(((q >> 4) - 8) * d);
        }
      }
      return;
    case 'Q4_1':
      for (let i = 0; i < blocks; i++) {
        const o = i * bytes;
        const d = h(o);
        const m = h(o + 2);
        for (let j = 0; j < 16; j++) {
          const q = b[o + 4 + j];
          y[i * 32 + j] = f32(f32((q & 0xf) * d) + m);
          y[i * 32 + j + 16] = f32(f32((q >> 4) * d) + m);
        }
      }
      return;
    case 'Q5_0':
      for (let i = 0; i < blocks; i++) {
        const o = i * bytes;
        const d = h(o);
        const qh = dv.getUint32(o + 2, true);
        for (let j = 0; j < 16; j++) {
          const q = b[o + 6 + j];
          const x0 = ((q & 0xf) | (((qh >>> j) << 4) & 0x10)) - 16;
          const x1 = ((q >> 4) | ((qh >>> (j + 12)) & 0x10)) - 16;
          y[i * 32 + j] = f32(x0 * d);
          y[i * 32 + j + 16] = f32(x1 * d);
        }
      }
      return;
    case 'Q4_K':
    case 'Q5_K':
      for (let i = 0; i < blocks; i++) {
        const o = i * bytes;
        const d = h(o);
        const min = h(o + 2);
        const sc = o + 4;
        const qh = o + 16; // Q5_K only: 32 bytes of high bits
        const ql = type === 'Q4_K' ? o + 16 : o + 48;
        let out = i * QK_K;
        for (let j = 0, is = 0; j < QK_K; j += 64, is += 2) {
          const [s1, m1] = scaleMinK4(is, b, sc);
          const [s2, m2] = scaleMinK4(is + 1, b, sc);
          const d1 = f32(d * s1);
          const dm1 = f32(min * m1);
          const d2 = f32(d * s2);
          const dm2 = f32(min * m2);
          const q = ql + j / 2;
          for (let l = 0; l < 32; l++) {
            const hi = type === 'Q5_K' ? ((b[qh + l] >> is) & 1) << 4 : 0;
            y[out++] = f32(f32(d1 * ((b[q + l] & 0xf) | hi)) - dm1);
          }
          for (let l = 0; l < 32; l++) {
            const hi = type === 'Q5_K' ? ((b[qh + l] >> (is + 1)) & 1) << 4 : 0;
            y[out++] = f32(f32(d2 * ((b[q + l] >> 4) | hi)) - dm2);
          }
        }
      }
      return;
    case 'Q6_K':
      for (let i = 0; i < blocks; i++) {
        const o = i * bytes;
        const d = h(o + QK_K / 2 + QK_K / 4 + QK_K / 16);
        for (let n2 = 0; n2 < 2; n2++) {
          const ql = o + n2 * 64;
          const qh = o + QK_K / 2 + n2 * 32;
          const sc = o + QK_K / 2 + QK_K / 4 + n2 * 8;
          const out = i * QK_K + n2 * 128;
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const q1 = ((b[ql + l] & 0xf) | (((b[qh + l] >> 0) & 3) << 4)) - 32;
            const q2 = ((b[ql + l + 32] & 0xf) | (((b[qh + l] >> 2) & 3) << 4)) - 32;
            const q3 = ((b[ql + l] >> 4) | (((b[qh + l] >> 4) & 3) << 4)) - 32;
            const q4 = ((b[ql + l + 32] >> 4) | (((b[qh + l] >> 6) & 3) << 4)) - 32;
            y[out + l] = f32(f32(d * dv.getInt8(sc + is)) * q1);
            y[out + l + 32] = f32(f32(d * dv.getInt8(sc + is + 2)) * q2);
            y[out + l + 64] = f32(f32(d * dv.getInt8(sc + is + 4)) * q3);
            y[out + l + 96] = f32(f32(d * dv.getInt8(sc + is + 6)) * q4);
          }
        }
      }
      return;
  }
}
