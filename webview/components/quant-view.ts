/**
 * The Quantization tab: what Quantize Model… did (end-to-end figures, per-layer error bars) and the
 * current hook of the float model beside the same hook of the quantized one, with their difference —
 * stepping with the panel's stepper (the same stepper is shown above, and the keys work here too).
 */
import './quant-view.css';
import type { FromWebview } from '../../protocol/webview';
import type { MatrixView } from '../../protocol/webview';
import { divergingScale, symmetricExtent, type ColorScale, type ThemeColors } from '../color';
import { h } from '../dom';
import { formatValue } from '../format';
import { fitCells, poolMaxAbs } from '../raster';
import type { ViewState } from '../state';
import { button } from '../toolkit';
import { endToEnd, layerChart, quantTitle } from './quant-chart';
import { heatmap, type HoveredCell } from './heatmap';
import { legend } from './legend';

export interface QuantContext {
  theme: ThemeColors;
  width: number;
  post: (m: FromWebview) => void;
}

const MAX_HEIGHT = 300;
const ROW_LABEL_WIDTH = 96;

export function quantView(s: ViewState, ctx: QuantContext): HTMLElement {
  const quantize = button({
    label: s.quant ? 'Quantize Again…' : 'Quantize Model…',
    variant: s.quant ? 'secondary' : 'primary',
    testId: 'quantize-button',
    data: { command: 'quantizeModel' },
    onClick: () => ctx.post({ type: 'command', command: 'quantizeModel' }),
  });
  const r = s.quant;
  if (!r) {
    return h(
      'section',
      { class: 'quant-view quant-empty', attrs: { 'data-testid': 'quant-view' } },
      h('p', {
        text: 'Quantize the linear layers of this model (int8, LLM.int8(), round to nearest, GPTQ or AWQ) and see what it does to every weight, every activation and the predictions. The float model stays beside the quantized one.',
      }),
      quantize,
    );
  }
  return h(
    'section',
    {
      class: 'quant-view',
      attrs: { 'data-testid': 'quant-view', 'data-method': r.method, 'data-bits': r.bits },
    },
    h('div', { class: 'quant-head' }, h('h2', { class: 'quant-title', text: quantTitle(r) }), quantize),
    endToEnd(r),
    compareView(s, ctx),
    layerChart(r),
  );
}

/** The current hook, float | quantized | difference. */
function compareView(s: ViewState, ctx: QuantContext): HTMLElement {
  const q = s.quantStep;
  if (!s.step)
    return h('p', {
      class: 'hint',
      text: 'Step forward to compare a hook of the float and the quantized model.',
    });
  if (!q || q.name !== s.step.name || q.index !== s.step.index) {
    return h('p', { class: 'hint quant-pending', text: `Computing ${s.step.name} in the quantized model…` });
  }
  const width = ctx.width >= 900 ? Math.floor((ctx.width - 48) / 3) : ctx.width;
  const values = [q.fp, q.quantized].flatMap((v) => [minOf(v.data), maxOf(v.data)]);
  const valueScale = divergingScale(ctx.theme, symmetricExtent(Math.min(...values), Math.max(...values)));
  const diffScale = divergingScale(ctx.theme, q.max_abs_diff > 0 ? q.max_abs_diff : 1);
  const head = q.head !== undefined ? ` · head ${q.head}` : '';
  return h(
    'div',
    {
      class: 'quant-compare',
      attrs: { 'data-testid': 'quant-compare', 'data-hook': q.name, 'data-rel-error': q.rel_error },
    },
    h('h3', { class: 'quant-compare-title' }, h('code', { text: q.name }), head),
    h('p', {
      class: 'quant-compare-summary',
      text:
        q.rel_error === 0
          ? 'Identical in both models (no quantized layer before this hook).'
          : `‖a − â‖/‖a‖ = ${formatValue(q.rel_error, 4)} · largest |â − a| = ${formatValue(q.max_abs_diff, 4)}`,
      attrs: { 'data-testid': 'quant-rel-error' },
    }),
    h(
      'div',
      { class: ctx.width >= 900 ? 'quant-panes quant-panes-row' : 'quant-panes' },
      pane('float', q.fp, valueScale, ctx.theme, width, 'value', q.name, q.head !== undefined),
      pane('quantized', q.quantized, valueScale, ctx.theme, width, 'value', q.name, q.head !== undefined),
      pane(
        'difference (quantized − float)',
        q.diff,
        diffScale,
        ctx.theme,
        width,
        'â − a',
        q.name,
        q.head !== undefined,
      ),
    ),
  );
}

function pane(
  title: string,
  view: MatrixView,
  scale: ColorScale,
  theme: ThemeColors,
  width: number,
  label: string,
  hook: string,
  square = false,
): HTMLElement {
  const fit = fitCells(view.rows, view.cols, {
    maxWidth: Math.max(120, width - ROW_LABEL_WIDTH - 16),
    maxHeight: MAX_HEIGHT,
    maxCell: 20,
    square,
  });
  const grid = poolMaxAbs(view.data, view.rows, view.cols, fit.rows, fit.cols);
  const feature = (c: number) => view.colIndex[c] ?? c;
  const describe = (cell: HoveredCell): string[] => {
    const [r0, r1] = cell.rows;
    const [c0, c1] = cell.cols;
    return [
      r1 - r0 > 1 ? `positions ${r0}–${r1 - 1}` : `“${view.rowLabels[r0] ?? r0}” · position ${r0}`,
      c1 - c0 > 1 ? `${view.colName} ${feature(c0)}–${feature(c1 - 1)}` : `${view.colName} ${feature(c0)}`,
      `${label} ${formatValue(cell.value)}`,
    ];
  };
  return h(
    'figure',
    { class: 'quant-pane' },
    h('figcaption', { class: 'quant-pane-title', text: title }),
    heatmap({
      grid,
      theme,
      colorOf: scale.color,
      cellWidth: fit.cellWidth,
      cellHeight: fit.cellHeight,
      rowLabels: view.rowLabels,
      describe,
      ariaLabel: `${title} of ${hook}: ${view.rows} by ${view.cols} ${view.colName}`,
      attrs: {
        'data-testid': `quant-heatmap`,
        'data-pane': title.split(' ')[0],
        'data-rows': view.rows,
        'data-cols': view.cols,
      },
    }),
    legend({ scale, theme, min: minOf(view.data), max: maxOf(view.data), label }),
  );
}

function minOf(a: Float32Array): number {
  let m = Infinity;
  for (const v of a) if (v < m) m = v;
  return m;
}

function maxOf(a: Float32Array): number {
  let m = -Infinity;
  for (const v of a) if (v > m) m = v;
  return m;
}
