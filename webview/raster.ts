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
  return {
    cellWidth,
    cellHeight,
    cols: Math.min(cols, Math.max(1, Math.floor(maxW / cellWidth))),
    rows: Math.min(rows, Math.max(1, Math.floor(maxH / cellHeight))),
  };
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
export const HATCH_PERIOD = 6;

/** Fill an RGBA buffer of (cols·cellWidth) × (rows·cellHeight) pixels, one cell color per block. */
export function rasterize(o: RasterOptions): { width: number; height: number; pixels: Uint8ClampedArray } {
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
          if ((x + y) % HATCH_PERIOD < 2) words[line + x] = o.maskStripe ?? 0;
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
  return { row: Math.min(rows - 1, Math.floor((y / height) * rows)), col: Math.min(cols - 1, Math.floor((x / width) * cols)) };
}

/**
 * Which of `count` labels, each `spacing` px apart, to show so that shown labels are at least
 * `minSpacing` px apart: every k-th one, always the first, and the last when it has room.
 */
export function labelStride(count: number, spacing: number, minSpacing: number): number[] {
  if (count <= 0) return [];
  const k = Math.max(1, Math.ceil(minSpacing / Math.max(spacing, 1e-9)));
  const shown: number[] = [];
  for (let i = 0; i < count; i += k) shown.push(i);
  const last = count - 1;
  if (shown[shown.length - 1] !== last && (last - shown[shown.length - 1]) * spacing >= minSpacing) shown.push(last);
  return shown;
}
