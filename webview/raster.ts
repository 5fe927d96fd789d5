/**
 * Heatmap geometry and pixels, without a DOM: fitting cells to the available space, pooling a
 * matrix that has more rows or columns than pixels, filling one RGBA buffer (later one ImageData),
 * and mapping a pointer position back to a cell.
 */

/** A row-major matrix in which shown row i stands for source rows [rowBands[i], rowBands[i + 1]). */
export interface Grid {
  rows: number;
  cols: number;
  data: Float32Array;
  /** rows + 1 boundaries into the source rows. */
  rowBands: number[];
  /** cols + 1 boundaries into the source columns. */
  colBands: number[];
  /** With a mask: 1 where every source cell of the block is masked out. */
  masked?: Uint8Array;
}

/** Boundaries splitting `n` items into `parts` bands as evenly as possible. */
export function bands(n: number, parts: number): number[] {
  const out: number[] = [];
  for (let i = 0; i <= parts; i++) out.push(Math.floor((i * n) / parts));
  return out;
}

/**
 * Shrink a matrix to at most `maxRows` × `maxCols` by max-magnitude pooling: each output cell keeps
 * the signed value of largest magnitude in its block, so outliers (massive activations, sharp
 * attention) stay visible. Masked cells (mask[k] === 0) are skipped; a fully masked block is NaN.
 * A matrix that already fits comes back with the same values and one-item bands.
 */
export function poolMaxAbs(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  maxRows: number,
  maxCols: number,
  mask?: ArrayLike<number>,
): Grid {
  const outRows = Math.max(1, Math.min(rows, maxRows));
  const outCols = Math.max(1, Math.min(cols, maxCols));
  const rowBands = bands(rows, outRows);
  const colBands = bands(cols, outCols);
  const out = new Float32Array(outRows * outCols);
  const masked = mask ? new Uint8Array(outRows * outCols) : undefined;
  for (let i = 0; i < outRows; i++) {
    for (let j = 0; j < outCols; j++) {
      let best = NaN;
      let bestAbs = -1;
      let any = false;
      for (let r = rowBands[i]; r < rowBands[i + 1]; r++) {
        for (let c = colBands[j]; c < colBands[j + 1]; c++) {
          const k = r * cols + c;
          if (mask && mask[k] === 0) continue;
          any = true;
          const v = data[k];
          const a = Number.isNaN(v) ? -0.5 : Math.abs(v);
          if (a > bestAbs) {
            bestAbs = a;
            best = v;
          }
        }
      }
      out[i * outCols + j] = best;
      if (masked && !any) masked[i * outCols + j] = 1;
    }
  }
  return { rows: outRows, cols: outCols, data: out, rowBands, colBands, masked };
}

export interface CellFit {
  /** Cell size in CSS pixels (whole pixels). */
  cellWidth: number;
  cellHeight: number;
  /** Rows and columns to draw (after pooling when the matrix does not fit). */
  rows: number;
  cols: number;
}

export interface FitOptions {
  maxWidth: number;
  maxHeight: number;
  /** Largest cell side in CSS px. */
  maxCell: number;
  /** Smallest row height at which rows stay one per pixel band; below it rows are pooled. */
  minCell?: number;
  /** Keep cells square (attention patterns). */
  square?: boolean;
}

/** Choose cell sizes so a rows × cols matrix fits the box; pool when even 1 px cells do not fit. */
export function fitCells(rows: number, cols: number, o: FitOptions): CellFit {
  const minCell = o.minCell ?? 1;
  const maxW = Math.max(1, Math.floor(o.maxWidth));
  const maxH = Math.max(1, Math.floor(o.maxHeight));
  let cellWidth = Math.max(minCell, Math.min(o.maxCell, Math.floor(maxW / cols)));
  let cellHeight = Math.max(minCell, Math.min(o.maxCell, Math.floor(maxH / rows)));
  if (o.square) cellWidth = cellHeight = Math.min(cellWidth, cellHeight);
  let fitCols = Math.min(cols, Math.max(1, Math.floor(maxW / cellWidth)));
  let fitRows = Math.min(rows, Math.max(1, Math.floor(maxH / cellHeight)));
  if (o.square && (fitCols < cols || fitRows < rows)) {
    // Pool both axes by the same factor so square blocks stay square (query i still meets key i on the diagonal).
    const factor = Math.max(cols / fitCols, rows / fitRows);
    fitCols = Math.max(1, Math.min(fitCols, Math.ceil(cols / factor)));
    fitRows = Math.max(1, Math.min(fitRows, Math.ceil(rows / factor)));
  }
  return { cellWidth, cellHeight, cols: fitCols, rows: fitRows };
}

export interface RasterOptions {
  rows: number;
  cols: number;
  /** Cell size in device pixels. */
  cellWidth: number;
  cellHeight: number;
  /** Packed color of cell i (row-major). */
  colorOf: (i: number) => number;
  /** True when cell i is masked out: drawn as diagonal stripes of `maskStripe` on `maskBase`. */
  isMasked?: (i: number) => boolean;
  maskStripe?: number;
  maskBase?: number;
  /** Lines of this color between cells, when cells are at least `gapMinCell` device px. */
  gapColor?: number;
  gapMinCell?: number;
}

/** Period of the hatching of masked cells, in device pixels. */
export const HATCH_PERIOD = 8;

/** Fill an RGBA buffer of (cols·cellWidth) × (rows·cellHeight) pixels, one cell color per block. */
export function rasterize(o: RasterOptions): {
  width: number;
  height: number;
  pixels: Uint8ClampedArray<ArrayBuffer>;
} {
  const width = o.cols * o.cellWidth;
  const height = o.rows * o.cellHeight;
  const pixels = new Uint8ClampedArray(width * height * 4);
  const words = new Uint32Array(pixels.buffer);
  const gap = o.gapColor !== undefined && Math.min(o.cellWidth, o.cellHeight) >= (o.gapMinCell ?? 12);
  const rowColors = new Uint32Array(width);
  const rowMasked = new Uint8Array(o.cols);
  for (let r = 0; r < o.rows; r++) {
    for (let c = 0; c < o.cols; c++) {
      const i = r * o.cols + c;
      rowMasked[c] = o.isMasked?.(i) ? 1 : 0;
      const color = rowMasked[c] ? (o.maskBase ?? 0) : o.colorOf(i);
      rowColors.fill(color, c * o.cellWidth, (c + 1) * o.cellWidth);
      if (gap) rowColors[(c + 1) * o.cellWidth - 1] = o.gapColor!;
    }
    for (let y = r * o.cellHeight; y < (r + 1) * o.cellHeight; y++) {
      const line = y * width;
      if (gap && y === (r + 1) * o.cellHeight - 1) {
        words.fill(o.gapColor!, line, line + width);
        continue;
      }
      words.set(rowColors, line);
      for (let c = 0; c < o.cols; c++) {
        if (!rowMasked[c]) continue;
        const x1 = (c + 1) * o.cellWidth - (gap ? 1 : 0);
        for (let x = c * o.cellWidth; x < x1; x++) {
          if ((x + y) % HATCH_PERIOD < 1) words[line + x] = o.maskStripe ?? 0;
        }
      }
    }
  }
  return { width, height, pixels };
}

/** The cell under a pointer at (x, y) CSS px inside a drawn box of width × height, or undefined. */
export function cellAt(
  x: number,
  y: number,
  width: number,
  height: number,
  rows: number,
  cols: number,
): { row: number; col: number } | undefined {
  if (!(x >= 0 && y >= 0 && x < width && y < height) || rows <= 0 || cols <= 0) return undefined;
  return {
    row: Math.min(rows - 1, Math.floor((y / height) * rows)),
    col: Math.min(cols - 1, Math.floor((x / width) * cols)),
  };
}

/**
 * Which of `count` labels, each `spacing` px apart, to show so that shown labels are at least
 * `minSpacing` px apart: every k-th one, always the first, and (unless `includeLast` is false, for
 * labels that extend to the right of their position) the last when it has room.
 */
export function labelStride(
  count: number,
  spacing: number,
  minSpacing: number,
  includeLast = true,
): number[] {
  if (count <= 0) return [];
  const k = Math.max(1, Math.ceil(minSpacing / Math.max(spacing, 1e-9)));
  const shown: number[] = [];
  for (let i = 0; i < count; i += k) shown.push(i);
  const last = count - 1;
  if (
    includeLast &&
    shown[shown.length - 1] !== last &&
    (last - shown[shown.length - 1]) * spacing >= minSpacing
  )
    shown.push(last);
  return shown;
}

/**
 * Whole-number ticks 0, step, 2·step, … below `end`, with the step of the form 1, 2 or 5 × 10^k
 * nearest to end / count (so about `count` ticks).
 */
export function niceTicks(end: number, count: number): number[] {
  if (end <= 0 || count <= 0) return [0];
  const raw = end / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const candidates = [1, 2, 5, 10].map((m) => m * power);
  const nearest = candidates.reduce((best, s) =>
    Math.abs(Math.log(s / raw)) < Math.abs(Math.log(best / raw)) ? s : best,
  );
  const step = Math.max(1, Math.round(nearest));
  const ticks: number[] = [];
  for (let v = 0; v < end; v += step) ticks.push(v);
  return ticks;
}

/**
 * Where feature `value` is drawn: the shown column whose band of source columns holds the source
 * column of largest feature index ≤ value. `features[c]` is the (increasing) feature index of source
 * column c (strided tensors skip features). Undefined when the value precedes the first feature.
 */
export function columnOfFeature(
  value: number,
  features: readonly number[],
  colBands: readonly number[],
): number | undefined {
  let lo = 0;
  let hi = features.length - 1;
  if (hi < 0 || value < features[0]) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (features[mid] <= value) lo = mid;
    else hi = mid - 1;
  }
  for (let j = 0; j < colBands.length - 1; j++) if (lo >= colBands[j] && lo < colBands[j + 1]) return j;
  return undefined;
}
