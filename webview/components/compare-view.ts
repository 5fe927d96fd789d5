/**
 * Compare With…: the current input (A) and another (B) at the same hook side by side — or the current
 * input through two models (A the loaded one, B another checkpoint or the quantized copy) — and their
 * difference (B − A) on a diverging scale; for attention, the selected head. Under them the tokens
 * whose probability moved most at the last position, and the hooks that changed most (click one to
 * step there). Shown above the step view until closed.
 */
import type { AttentionView, ComparisonView, MatrixView } from '../../protocol/webview';
import { divergingScale, sequentialScale, symmetricExtent, type ThemeColors } from '../color';
import { h } from '../dom';
import { formatValue, visibleToken } from '../format';
import { fitCells, poolMaxAbs, type Grid } from '../raster';
import { heatmap } from './heatmap';

/** The grid one side shows: a matrix as it is, an attention view's head `head`. */
export function sideGrid(
  view: MatrixView | AttentionView,
  head: number,
  maxRows: number,
  maxCols: number,
): Grid {
  if (view.kind === 'matrix') return poolMaxAbs(view.data, view.rows, view.cols, maxRows, maxCols);
  const size = view.queries * view.keys;
  const hd = Math.min(head, view.heads - 1);
  return poolMaxAbs(
    view.data.subarray(hd * size, (hd + 1) * size),
    view.queries,
    view.keys,
    maxRows,
    maxCols,
  );
}

/** The hooks that changed most, by relative size, at most `n`. */
export function mostChanged(c: ComparisonView, n: number): ComparisonView['hooks'] {
  return [...c.hooks]
    .filter((x) => Number.isFinite(x.relative))
    .sort((a, b) => b.relative - a.relative)
    .slice(0, n);
}

/** A model's short name: the config's folder and file (`tiny-llama/config.json`), or the label as it is. */
export function modelName(label: string): string {
  const parts = label.split(/[\\/]/).filter(Boolean);
  return parts.length >= 2 ? parts.slice(-2).join('/') : label;
}

/** The titles of the two sides and the line under the heading. */
export function sideTitles(c: ComparisonView): { a: string; b: string; about: string } {
  if (c.models) {
    const a = modelName(c.models.a);
    const b = modelName(c.models.b);
    return {
      a: `A: ${a}`,
      b: `B: ${b}`,
      about: `Two models on this input: A ${c.models.a} · B ${c.models.b}`,
    };
  }
  return { a: 'A (this input)', b: 'B', about: `B: ${c.tokensB.map(visibleToken).join('').slice(0, 200)}` };
}

function finiteRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    // Masked scores (−1e9) are not data.
    if (!Number.isFinite(data[i]) || Math.abs(data[i]) >= 1e8) continue;
    lo = Math.min(lo, data[i]);
    hi = Math.max(hi, data[i]);
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

export interface CompareProps {
  comparison: ComparisonView;
  head: number;
  theme: ThemeColors;
  width: number;
  onClose: () => void;
  onGoTo: (hook: string) => void;
}

export function compareView(p: CompareProps): HTMLElement {
  const c = p.comparison;
  const titles = sideTitles(c);
  const side = Math.max(120, Math.floor((p.width - 48) / 3));
  const panel = (title: string, view: MatrixView | AttentionView, diff: boolean, testid: string) => {
    const rows = view.kind === 'matrix' ? view.rows : view.queries;
    const cols = view.kind === 'matrix' ? view.cols : view.keys;
    const fit = fitCells(rows, cols, { maxWidth: side, maxHeight: 260, maxCell: 16 });
    const grid = sideGrid(view, p.head, fit.rows, fit.cols);
    const [lo, hi] = finiteRange(grid.data);
    const scale =
      diff || view.kind === 'matrix' || lo < 0
        ? divergingScale(p.theme, symmetricExtent(lo, hi))
        : sequentialScale(p.theme, 0, 1);
    return h(
      'div',
      { class: 'compare-side' },
      h('h4', { class: 'analysis-subtitle', text: title }),
      heatmap({
        grid,
        theme: p.theme,
        colorOf: scale.color,
        cellWidth: fit.cellWidth,
        cellHeight: fit.cellHeight,
        describe: (cell) => [
          `${title}: rows ${cell.rows[0]}–${cell.rows[1] - 1}, columns ${cell.cols[0]}–${cell.cols[1] - 1}`,
          formatValue(cell.value),
        ],
        ariaLabel: `${title} at ${c.hook}`,
        attrs: { 'data-testid': testid },
      }),
    );
  };
  const changes = h(
    'table',
    { class: 'compare-changes', attrs: { 'data-testid': 'compare-changes' } },
    h(
      'thead',
      {},
      h('tr', {}, ...['token', 'A', 'B', 'Δ'].map((t) => h('th', { text: t, attrs: { scope: 'col' } }))),
    ),
    h(
      'tbody',
      {},
      ...c.topChanges.map((x) =>
        h(
          'tr',
          {},
          h('td', { text: visibleToken(x.token) }),
          h('td', { text: formatValue(x.before, 3) }),
          h('td', { text: formatValue(x.after, 3) }),
          h('td', { text: `${x.delta >= 0 ? '+' : ''}${formatValue(x.delta, 3)}` }),
        ),
      ),
    ),
  );
  const hooks = h(
    'ol',
    { class: 'compare-hooks' },
    ...mostChanged(c, 8).map((x) =>
      h(
        'li',
        {},
        h('button', {
          class: 'link-button',
          text: x.hook,
          attrs: { type: 'button', title: `max |Δ| ${formatValue(x.maxAbs)}` },
          on: { click: () => p.onGoTo(x.hook) },
        }),
        ` ${formatValue(x.relative, 3)} relative`,
      ),
    ),
  );
  const size =
    c.maxAbs !== undefined
      ? `max |Δ| ${formatValue(c.maxAbs)}, mean |Δ| ${formatValue(c.meanAbs ?? 0)}, relative ${formatValue(c.relative ?? 0, 3)}`
      : 'the inputs differ in length: compared at the logits’ last position only';
  return h(
    'section',
    {
      class: 'compare-view',
      attrs: {
        'data-testid': 'comparison',
        'data-hook': c.hook,
        'data-models': c.models ? 'two' : 'one',
        'aria-label': 'Comparison',
      },
    },
    h(
      'div',
      { class: 'compare-head' },
      h('h3', { class: 'section-title', text: `Compared at ${c.hook}` }),
      h('button', {
        class: 'tk-button tk-button-secondary',
        text: 'Close',
        attrs: { type: 'button' },
        on: { click: p.onClose },
      }),
    ),
    h('p', { class: 'hint', attrs: { 'data-testid': 'compare-about' }, text: `${titles.about} · ${size}` }),
    h(
      'div',
      { class: 'compare-sides' },
      panel(titles.a, c.a, false, 'compare-a'),
      panel(titles.b, c.b, false, 'compare-b'),
      c.diff ? panel('B − A', c.diff, true, 'compare-diff') : null,
    ),
    h(
      'div',
      { class: 'compare-lists' },
      h(
        'div',
        {},
        h('h4', { class: 'analysis-subtitle', text: 'Top changes at the last position' }),
        changes,
      ),
      h('div', {}, h('h4', { class: 'analysis-subtitle', text: 'Hooks that changed most' }), hooks),
    ),
  );
}
