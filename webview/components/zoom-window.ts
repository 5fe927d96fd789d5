/**
 * The arithmetic of zoom and pan over a long grid (no DOM; unit-tested): the visible window in
 * source positions, zoomed about a point, panned, clamped inside the grid; and which source cell
 * each drawn pixel shows, from the engine's tile of the window when it covers it, else from the
 * pooled overview of the whole grid.
 */
import type { Window } from '../../protocol/analyses';

/** The fewest positions a window spans (zooming stops there: a cell is then many pixels). */
export const MIN_SPAN = 8;

export function fullWindow(rows: number, cols: number): Window {
  return { row0: 0, row1: rows, col0: 0, col1: cols };
}

function clampSpan(start: number, span: number, n: number): [number, number] {
  const s = Math.max(Math.min(n, MIN_SPAN), Math.min(n, Math.round(span)));
  const a = Math.max(0, Math.min(n - s, Math.round(start)));
  return [a, a + s];
}

/** Zoom by `factor` (> 1 zooms in) keeping the source point at fractions (fx, fy) of the view in place. */
export function zoomAt(w: Window, rows: number, cols: number, factor: number, fx = 0.5, fy = 0.5): Window {
  const h = (w.row1 - w.row0) / factor;
  const wd = (w.col1 - w.col0) / factor;
  const [row0, row1] = clampSpan(w.row0 + (w.row1 - w.row0) * fy - h * fy, h, rows);
  const [col0, col1] = clampSpan(w.col0 + (w.col1 - w.col0) * fx - wd * fx, wd, cols);
  return { row0, row1, col0, col1 };
}

/** Pan by fractions of the view (dx, dy), clamped inside the grid. */
export function panBy(w: Window, rows: number, cols: number, dx: number, dy: number): Window {
  const h = w.row1 - w.row0;
  const wd = w.col1 - w.col0;
  const [row0, row1] = clampSpan(w.row0 + dy * h, h, rows);
  const [col0, col1] = clampSpan(w.col0 + dx * wd, wd, cols);
  return { row0, row1, col0, col1 };
}

export const sameWindow = (a: Window, b: Window) =>
  a.row0 === b.row0 && a.row1 === b.row1 && a.col0 === b.col0 && a.col1 === b.col1;
export const contains = (outer: Window, inner: Window) =>
  outer.row0 <= inner.row0 &&
  inner.row1 <= outer.row1 &&
  outer.col0 <= inner.col0 &&
  inner.col1 <= outer.col1;

/** A grid of values over source positions: `data[r * cols + c]` covers rows r·rowStep + origin… */
export interface Sampled {
  data: ArrayLike<number>;
  mask?: ArrayLike<number>;
  rows: number;
  cols: number;
  rowStep: number;
  colStep: number;
  row0: number;
  col0: number;
}

/**
 * For each of `pixels` drawn along an axis showing source [from, to): the index of the sampled
 * cell it shows (the source position under the pixel's centre, in cells of `step` from `origin`).
 */
export function axisIndex(
  pixels: number,
  from: number,
  to: number,
  origin: number,
  step: number,
  cells: number,
): Int32Array {
  const out = new Int32Array(pixels);
  const span = to - from;
  for (let p = 0; p < pixels; p++) {
    const source = from + ((p + 0.5) * span) / pixels;
    out[p] = Math.max(0, Math.min(cells - 1, Math.floor((source - origin) / step)));
  }
  return out;
}
