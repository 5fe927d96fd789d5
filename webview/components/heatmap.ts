/**
 * A canvas heatmap with row labels on the left, optional column labels on top and ticks below, and
 * a hover tooltip. Shared by the tensor view and the attention view. The matrix arrives already
 * pooled to what fits (`Grid`); all pixels are written into one ImageData.
 */
import { maskStripeColor, pack, type ThemeColors } from '../color';
import { h, paint, pixelRatio } from '../dom';
import { visibleToken } from '../format';
import { cellAt, labelStride, rasterize, type Grid } from '../raster';
import { hideTooltip, showTooltip } from './tooltip';

export interface HoveredCell {
  /** Shown row and column. */
  row: number;
  col: number;
  /** Source rows [from, to) and columns [from, to) the cell stands for. */
  rows: [number, number];
  cols: [number, number];
  value: number;
  masked: boolean;
}

export interface HeatmapProps {
  grid: Grid;
  theme: ThemeColors;
  /** Packed color of a value. */
  colorOf: (v: number) => number;
  /** Cell size in CSS px. */
  cellWidth: number;
  cellHeight: number;
  /** A label per source row / column; shown thinned out when cells are small. */
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  /** Ticks under the matrix: text at the left edge of shown column `col` (feature indices). */
  colTicks?: { col: number; text: string }[];
  /** Caption of the row and column axes (shown in the corner and under the ticks). */
  rowAxis?: string;
  colAxis?: string;
  /** Tooltip lines for a cell. */
  describe: (cell: HoveredCell) => string[];
  ariaLabel: string;
  /** Extra attributes on the canvas's container (test hooks). */
  attrs?: Record<string, string | number>;
  className?: string;
}

/** Token labels (11 px) need this many px each: every token is labelled once cells are this size. */
const LABEL_PITCH = 12;

/** Approximate width of a label in CSS px at the panel's small font. */
const labelWidth = (text: string) => text.length * 7 + 8;

/** Slots for labels: each shown label spans the cells up to the next shown one. */
function labelSlots(
  count: number,
  cell: number,
  minSpacing: number,
  includeLast = true,
): { index: number; span: number }[] {
  const shown = labelStride(count, cell, minSpacing, includeLast);
  return shown.map((index, i) => ({ index, span: (i + 1 < shown.length ? shown[i + 1] : count) - index }));
}

export function heatmap(p: HeatmapProps): HTMLElement {
  const { grid, theme } = p;
  const dpr = pixelRatio();
  const devW = Math.max(1, Math.round(p.cellWidth * dpr));
  const devH = Math.max(1, Math.round(p.cellHeight * dpr));
  const masked = grid.masked;
  const { width, height, pixels } = rasterize({
    rows: grid.rows,
    cols: grid.cols,
    cellWidth: devW,
    cellHeight: devH,
    colorOf: (i) => p.colorOf(grid.data[i]),
    isMasked: masked ? (i) => masked[i] === 1 : undefined,
    maskStripe: pack(maskStripeColor(theme)),
    maskBase: pack(theme.neutral),
    gapColor: pack(theme.background),
    gapMinCell: Math.round(14 * dpr),
  });
  const canvas = h('canvas', { class: 'heatmap-canvas', attrs: { role: 'img', 'aria-label': p.ariaLabel } });
  paint(canvas, width, height, pixels);
  const cssWidth = grid.cols * p.cellWidth;
  const cssHeight = grid.rows * p.cellHeight;
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;

  canvas.addEventListener('mousemove', (e) => {
    const rect = canvas.getBoundingClientRect();
    const cell = cellAt(
      e.clientX - rect.left,
      e.clientY - rect.top,
      rect.width,
      rect.height,
      grid.rows,
      grid.cols,
    );
    if (!cell) return hideTooltip();
    const i = cell.row * grid.cols + cell.col;
    showTooltip(
      e.clientX,
      e.clientY,
      p.describe({
        ...cell,
        rows: [grid.rowBands[cell.row], grid.rowBands[cell.row + 1]],
        cols: [grid.colBands[cell.col], grid.colBands[cell.col + 1]],
        value: grid.data[i],
        masked: masked?.[i] === 1,
      }),
    );
  });
  canvas.addEventListener('mouseleave', hideTooltip);

  const body = h('div', { class: 'heatmap-body' }, canvas);
  const compact = !p.rowLabels && !p.colLabels && !p.colTicks;
  const root = h('div', {
    class: `heatmap${compact ? ' compact' : ''} ${p.className ?? ''}`,
    attrs: p.attrs,
  });
  if (compact) {
    root.append(body);
    return root;
  }

  // Row 1: corner + column labels.
  if (p.colLabels) {
    const rotate = grid.colBands.some(
      (c, j) => j < grid.cols && labelWidth(visibleToken(p.colLabels![c] ?? '')) > p.cellWidth,
    );
    const slots = labelSlots(grid.cols, p.cellWidth, rotate ? LABEL_PITCH : 24);
    const top = h('div', {
      class: `heatmap-col-labels${rotate ? ' rotated' : ''}`,
      attrs: { 'aria-hidden': 'true' },
    });
    for (const { index, span } of slots) {
      const text = visibleToken(p.colLabels[grid.colBands[index]] ?? '');
      const slot = h('div', { class: 'heatmap-col-label', text, attrs: { title: text } });
      slot.style.width = `${span * p.cellWidth}px`;
      if (!rotate) slot.style.maxWidth = `${span * p.cellWidth}px`;
      top.append(slot);
    }
    root.append(h('div', { class: 'heatmap-corner', text: p.colAxis ? `${p.colAxis} →` : '' }), top);
  }

  // Row 2: row labels + canvas.
  const left = h('div', { class: 'heatmap-row-labels', attrs: { 'aria-hidden': 'true' } });
  left.style.height = `${cssHeight}px`;
  if (p.rowLabels) {
    for (const { index, span } of labelSlots(grid.rows, p.cellHeight, LABEL_PITCH)) {
      const source = grid.rowBands[index];
      const text = visibleToken(p.rowLabels[source] ?? String(source));
      const slot = h('div', {
        class: 'heatmap-row-label',
        text,
        attrs: { title: `${text} (position ${source})` },
      });
      slot.style.height = `${span * p.cellHeight}px`;
      // One label per row when rows are tall enough (centred on its row), else on the first row of its span.
      slot.style.lineHeight = `${Math.max(p.cellHeight, LABEL_PITCH)}px`;
      left.append(slot);
    }
  }
  root.append(left, body);

  // Row 3: ticks under the columns.
  if (p.colTicks) {
    const ticks = h('div', { class: 'heatmap-ticks', attrs: { 'aria-hidden': 'true' } });
    ticks.style.width = `${cssWidth}px`;
    let last = -Infinity;
    for (const { col, text } of p.colTicks) {
      const x = col * p.cellWidth;
      if (x - last < labelWidth(text) + 4 || x + labelWidth(text) > cssWidth + 24) continue;
      last = x;
      const tick = h('span', { class: 'heatmap-tick', text });
      tick.style.left = `${x}px`;
      ticks.append(tick);
    }
    root.append(h('div', { class: 'heatmap-corner' }), ticks);
  }
  if (p.rowAxis || p.colAxis) {
    const caption = [p.rowAxis ? `rows: ${p.rowAxis}` : '', p.colAxis ? `columns: ${p.colAxis}` : '']
      .filter(Boolean)
      .join(' · ');
    root.append(
      h('div', { class: 'heatmap-corner' }),
      h('div', { class: 'heatmap-axis-caption', text: caption }),
    );
  }
  return root;
}
