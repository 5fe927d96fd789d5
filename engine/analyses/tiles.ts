import { InspectorError } from '../errors';

/**
 * Long inputs: a 4,096-token attention pattern is 16.7 M values per head, far more than a view can draw.
 * `downsample` reduces the visible window of a [rows, cols] matrix to at most outRows × outCols cells —
 * full resolution when the window fits, else each cell the max (or mean) of the block it covers — so what
 * crosses to the webview is never bigger than what it draws. Max pooling keeps a single sharp attention
 * spike visible at any zoom. One pass over the window, no allocation besides the output.
 */
export type { Window } from '../../protocol/analyses';
import type { Window } from '../../protocol/analyses';

export interface Tile {
  data: Float32Array;
  rows: number;
  cols: number;
  /** Source rows / columns per cell (1 = full resolution). */
  rowStep: number;
  colStep: number;
  window: Window;
}

export function downsample(src: Float32Array, rows: number, cols: number, window: Window, outRows: number, outCols: number, mode: 'max' | 'mean' = 'max'): Tile {
  const { row0, row1, col0, col1 } = window;
  if (src.length < rows * cols) throw new InspectorError(`downsample: ${src.length} values cannot be a ${rows} × ${cols} matrix`);
  if (!(0 <= row0 && row0 < row1 && row1 <= rows && 0 <= col0 && col0 < col1 && col1 <= cols)) {
    throw new InspectorError(`downsample: window rows ${row0}…${row1}, columns ${col0}…${col1} is not inside ${rows} × ${cols}`);
  }
  if (!(outRows >= 1 && outCols >= 1)) throw new InspectorError('downsample: the output needs at least one cell');
  const rowStep = Math.ceil((row1 - row0) / outRows);
  const colStep = Math.ceil((col1 - col0) / outCols);
  const R = Math.ceil((row1 - row0) / rowStep);
  const C = Math.ceil((col1 - col0) / colStep);
  const out = new Float32Array(R * C);
  if (mode === 'max') out.fill(-Infinity);
  for (let r = row0; r < row1; r++) {
    const o = Math.floor((r - row0) / rowStep) * C;
    const base = r * cols;
    for (let cell = 0, c = col0; cell < C; cell++) {
      const end = Math.min(col1, c + colStep);
      let acc = mode === 'max' ? out[o + cell] : 0;
      if (mode === 'max') for (; c < end; c++) acc = src[base + c] > acc ? src[base + c] : acc;
      else for (; c < end; c++) acc += src[base + c];
      out[o + cell] = mode === 'max' ? acc : out[o + cell] + acc;
    }
  }
  if (mode === 'mean') {
    for (let i = 0; i < R; i++) {
      const h = Math.min(row1, row0 + (i + 1) * rowStep) - (row0 + i * rowStep);
      for (let j = 0; j < C; j++) {
        const w = Math.min(col1, col0 + (j + 1) * colStep) - (col0 + j * colStep);
        out[i * C + j] /= h * w;
      }
    }
  }
  return { data: out, rows: R, cols: C, rowStep, colStep, window };
}
