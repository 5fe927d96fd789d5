/**
 * 16-bit floats as stored in checkpoints: IEEE half (F16) and bfloat16 (BF16), kept as their raw bits
 * (a Uint16Array) so a 16-bit model holds 2 bytes per weight; widened to fp32 where a value is needed.
 */
export type HalfDtype = 'F16' | 'BF16';

export interface HalfStorage {
  readonly dtype: HalfDtype;
  readonly bits: Uint16Array;
}

/** One IEEE half's bits as a number (subnormals, infinities and NaN included). */
export function f16ToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** All values of a 16-bit storage as fp32 (exact: every F16 and BF16 value is an fp32 value). */
export function widenHalf(half: HalfStorage, out: Float32Array = new Float32Array(half.bits.length)): Float32Array {
  const bits = half.bits;
  if (half.dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < bits.length; i++) u32[i] = bits[i] << 16;
  } else {
    for (let i = 0; i < bits.length; i++) out[i] = f16ToFloat(bits[i]);
  }
  return out;
}
