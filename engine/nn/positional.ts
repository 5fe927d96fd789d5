import { Tensor } from '../tensor';

/**
 * Sinusoidal positional encodings.
 * - `interleaved` (Vaswani et al. 2017 and the tutorials): PE(pos, 2i) = sin(pos / 10000^(2i/d)),
 *   PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).
 * - `half` (Marian / fairseq): sin of every frequency in the first half of the dimensions, cos in the second.
 */
export type SinusoidalLayout = 'interleaved' | 'half';

/** Rows precomputed for a fixed table; longer inputs (up to max_len) extend it on demand. */
export const SINUSOIDAL_ROWS = 4096;

export function sinusoidalTable(maxLen: number, d: number, layout: SinusoidalLayout = 'interleaved'): Tensor {
  const out = new Tensor([maxLen, d]);
  const half = Math.ceil(d / 2);
  for (let pos = 0; pos < maxLen; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos / Math.pow(10000, (2 * i) / d);
      if (layout === 'interleaved') {
        out.data[pos * d + 2 * i] = Math.sin(angle);
        if (2 * i + 1 < d) out.data[pos * d + 2 * i + 1] = Math.cos(angle);
      } else {
        out.data[pos * d + i] = Math.sin(angle);
        if (half + i < d) out.data[pos * d + half + i] = Math.cos(angle);
      }
    }
  }
  return out;
}

/** Broadcast rows [offset, offset + T) of a [rows, d] table to [B, T, d]. */
export function positionRows(table: Tensor, B: number, T: number, offset = 0): Tensor {
  const d = table.shape[1];
  const out = new Tensor([B, T, d]);
  if (offset + T > table.shape[0]) throw new Error(`position ${offset + T - 1} is past the table's ${table.shape[0]} rows`);
  const rows = table.data.subarray(offset * d, (offset + T) * d);
  for (let b = 0; b < B; b++) out.data.set(rows, b * T * d);
  return out;
}
