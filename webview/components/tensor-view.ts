/**
 * The tensor view of a step: the (tokens × features) matrix as a heatmap on a diverging scale
 * centred on 0, token labels on the rows, a legend, per-token L2 norms, summary statistics and a
 * histogram. The host has already strided wide tensors; what still does not fit the panel is pooled
 * by largest magnitude here.
 */
import type { MatrixView, StepInfo } from '../../protocol/webview';
import { divergingScale, symmetricExtent, type ThemeColors } from '../color';
import { h } from '../dom';
import { formatValue, thousands } from '../format';
import { columnOfFeature, fitCells, niceTicks, poolMaxAbs } from '../raster';
import { heatmap, type HoveredCell } from './heatmap';
import { legend } from './legend';
import { histogramView, statsList } from './summary';

export interface ViewContext {
  theme: ThemeColors;
  /** Width available to the view, in CSS px. */
  width: number;
}

const ROW_LABEL_WIDTH = 96;
const NORM_WIDTH = 140;
const MAX_HEIGHT = 520;
/** Width of the statistics column; reserved beside the heatmap when the panel is wide enough. */
const SIDE_WIDTH = 320;

/** Min and max of the finite values (what the colors and the legend show). */
export function finiteRange(data: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : { min: 0, max: 0 };
}

const range = ([a, b]: [number, number], name: string) =>
  b - a > 1 ? `${name} ${a}–${b - 1}` : `${name} ${a}`;

export function tensorView(
  step: StepInfo,
  view: MatrixView,
  ctx: ViewContext,
  log?: { on: boolean; toggle: (on: boolean) => void },
): HTMLElement {
  const { min, max } = finiteRange(view.data);
  const scale = divergingScale(ctx.theme, symmetricExtent(min, max));
  const fit = fitCells(view.rows, view.cols, {
    maxWidth: Math.max(
      120,
      ctx.width - ROW_LABEL_WIDTH - NORM_WIDTH - 32 - (ctx.width >= 900 ? SIDE_WIDTH + 32 : 0),
    ),
    maxHeight: MAX_HEIGHT,
    maxCell: 28,
  });
  const grid = poolMaxAbs(view.data, view.rows, view.cols, fit.rows, fit.cols);
  const pooled = grid.rows < view.rows || grid.cols < view.cols;
  const feature = (c: number) => view.colIndex[c] ?? c;

  const features =
    view.colIndex.length === view.cols ? view.colIndex : Array.from({ length: view.cols }, (_, c) => c);
  const colTicks = niceTicks(
    view.fullCols,
    Math.max(2, Math.floor((grid.cols * fit.cellWidth) / 56)),
  ).flatMap((v) => {
    const col = columnOfFeature(v, features, grid.colBands);
    return col === undefined ? [] : [{ col, text: String(v) }];
  });

  const describe = (cell: HoveredCell): string[] => {
    const [r0, r1] = cell.rows;
    const [c0, c1] = cell.cols;
    const token =
      r1 - r0 > 1 ? range(cell.rows, 'positions') : `“${view.rowLabels[r0] ?? r0}” · position ${r0}`;
    const cols =
      c1 - c0 > 1 ? `${view.colName} ${feature(c0)}–${feature(c1 - 1)}` : `${view.colName} ${feature(c0)}`;
    const vocab =
      c1 - c0 === 1 && view.colLabels?.[c0] !== undefined ? [`token “${view.colLabels[c0]}”`] : [];
    const lines = [token, cols, ...vocab, `value ${formatValue(cell.value)}`];
    if (r1 - r0 > 1 || c1 - c0 > 1) lines.push('largest magnitude in this block');
    return lines;
  };

  const map = heatmap({
    grid,
    theme: ctx.theme,
    colorOf: scale.color,
    cellWidth: fit.cellWidth,
    cellHeight: fit.cellHeight,
    rowLabels: view.rowLabels,
    colTicks,
    describe,
    ariaLabel: `Heatmap of ${step.name}: ${view.rows} tokens by ${view.cols} ${view.colName} columns`,
    attrs: { 'data-testid': 'tensor-heatmap', 'data-rows': view.rows, 'data-cols': view.cols },
  });

  const notes: string[] = [
    `${thousands(view.rows)} ${view.rows === 1 ? 'token' : 'tokens'} × ${thousands(view.fullCols)} ${view.colName}`,
  ];
  if (view.fullCols > view.cols) {
    const stride = view.colIndex.length > 1 ? view.colIndex[1] - view.colIndex[0] : 1;
    notes.push(
      `showing ${thousands(view.cols)} of ${thousands(view.fullCols)} columns${stride > 1 ? ` (every ${ordinal(stride)} column, from ${view.colName} 0)` : ''}`,
    );
  }
  if (pooled) notes.push(`pooled to ${grid.rows} × ${grid.cols} cells, keeping the largest magnitude`);

  const matrix = h(
    'div',
    { class: 'tensor-matrix' },
    h(
      'div',
      { class: 'tensor-matrix-row' },
      map,
      normBars(step.stats.rowNorms, grid.rowBands, fit.cellHeight, view.rowLabels),
    ),
    legend({ scale, theme: ctx.theme, min, max, label: 'value' }),
  );
  const side = h(
    'div',
    { class: 'view-side' },
    h('h3', { class: 'section-title', text: 'Statistics' }),
    statsList(
      step.stats,
      view.fullCols > view.cols ? 'Over the whole tensor; the heatmap shows the strided columns.' : undefined,
    ),
    histogramView(step.stats.histogram, scale, ctx.theme, undefined, log),
  );
  return h(
    'section',
    { class: 'tensor-view', attrs: { 'aria-label': 'Tensor' } },
    h('p', { class: 'view-caption', text: notes.join(' · ') }),
    h('div', { class: 'view-columns' }, matrix, side),
  );
}

/** 2 → "2nd", 3 → "3rd", 11 → "11th". */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** L2 norm of each token as a bar aligned with the heatmap's rows. */
function normBars(
  norms: readonly number[],
  rowBands: readonly number[],
  cellHeight: number,
  labels: readonly string[],
): HTMLElement {
  const top = Math.max(1e-30, ...norms.filter(Number.isFinite));
  const rows = rowBands.length - 1;
  const showValues = cellHeight >= 14;
  const list = h('div', { class: 'norms-bars' });
  for (let i = 0; i < rows; i++) {
    let norm = 0;
    for (let r = rowBands[i]; r < rowBands[i + 1]; r++) norm = Math.max(norm, norms[r] ?? 0);
    const bar = h('div', { class: 'norm-bar' });
    bar.style.width = `${(norm / top) * 100}%`;
    const slot = h(
      'div',
      {
        class: 'norm-row',
        attrs: { title: `‖x‖ of “${labels[rowBands[i]] ?? rowBands[i]}”: ${formatValue(norm)}` },
      },
      h('div', { class: 'norm-track' }, bar),
      showValues ? h('span', { class: 'norm-value', text: formatValue(norm, 3) }) : null,
    );
    slot.style.height = `${cellHeight}px`;
    list.append(slot);
  }
  // Under the bars, where the heatmap has its ticks, so the bars line up with its rows.
  const header = h('div', {
    class: 'norms-header',
    text: '‖x‖ per token',
    attrs: { title: 'L2 norm of each token’s row' },
  });
  return h(
    'div',
    { class: 'norms', attrs: { role: 'group', 'aria-label': 'Per-token L2 norms' } },
    list,
    header,
  );
}
