/**
 * Activation patching: the clean run's activations patched into the corrupted run, one cell at a time
 * (residual: layer × position, heads: layer × head, MLP: layer × position); the metric is the logit
 * difference normalised to 0 (corrupted) … 1 (clean). A click chooses a cell (its value under the grid);
 * a second click on it (a double click), Enter or "Open the patched run" opens the patched run in the Step tab at that hook,
 * labelled with what was patched (a button there goes back to the normal run).
 */
import type { AnalysisReply } from '../../../protocol/analyses';
import { divergingScale, type ThemeColors } from '../../color';
import { h } from '../../dom';
import { formatValue, visibleToken } from '../../format';
import { bands, type Grid } from '../../raster';
import { heatmap } from '../heatmap';
import { legend } from '../legend';

type PatchingView = Extract<AnalysisReply['view'], { analysis: 'patching' }>;

export interface PatchCell {
  row: number;
  col: number;
}

/** The hook and column a cell stands for, in words. */
export function patchCellText(view: PatchingView, cell: PatchCell, tokens: readonly string[]): string {
  const hook = view.hooks[cell.row] ?? `row ${cell.row}`;
  const col =
    view.what === 'heads'
      ? `head ${cell.col}`
      : `position ${cell.col} (${visibleToken(tokens[cell.col] ?? '')})`;
  return `${hook} · ${col}: ${formatValue(view.values[cell.row * view.cols + cell.col])} of the way from corrupted to clean`;
}

export interface PatchingProps {
  view: PatchingView;
  tokens: readonly string[];
  theme: ThemeColors;
  width: number;
  selected?: PatchCell;
  onSelect: (cell: PatchCell) => void;
  onOpenHook: (hook: string) => void;
  /** Open the cell's patched run (the corrupted input with that activation from the clean run) in the Step tab. */
  onOpenPatched: (cell: PatchCell) => void;
}

export function patchingView(p: PatchingProps): HTMLElement {
  const { view } = p;
  const scale = divergingScale(p.theme, 1);
  const grid: Grid = {
    rows: view.rows,
    cols: view.cols,
    data: view.values,
    rowBands: bands(view.rows, view.rows),
    colBands: bands(view.cols, view.cols),
  };
  const cell = Math.max(6, Math.min(40, Math.floor((p.width - 120) / Math.max(1, view.cols))));
  const map = heatmap({
    grid,
    theme: p.theme,
    colorOf: scale.color,
    cellWidth: cell,
    cellHeight: Math.max(12, Math.min(28, cell)),
    rowLabels: view.hooks.map((hk) =>
      hk
        .replace(/^blocks\./, 'L')
        .replace(/\.hook_/, ' ')
        .replace('.attn', ' attn'),
    ),
    colLabels: view.what === 'heads' ? Array.from({ length: view.cols }, (_, i) => `H${i}`) : p.tokens,
    rowAxis: 'hook',
    colAxis: view.what === 'heads' ? 'head' : 'position',
    describe: (c) => [patchCellText(view, c, p.tokens)],
    ariaLabel: `Patching ${view.what}: ${view.rows} × ${view.cols}`,
    attrs: { 'data-testid': 'patching-heatmap', 'data-rows': view.rows, 'data-cols': view.cols },
  });
  const canvas = map.querySelector('canvas');
  // A click chooses a cell; a click on the chosen cell (a double click) opens its patched run.
  canvas?.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - r.left) / r.width) * view.cols);
    const row = Math.floor(((e.clientY - r.top) / r.height) * view.rows);
    if (row < 0 || row >= view.rows || col < 0 || col >= view.cols) return;
    if (p.selected?.row === row && p.selected.col === col) p.onOpenPatched({ row, col });
    else p.onSelect({ row, col });
  });
  const sel = p.selected && p.selected.row < view.rows && p.selected.col < view.cols ? p.selected : undefined;
  // Keyboard: arrows move the chosen cell, Enter opens its hook.
  const keys = h(
    'div',
    {
      class: 'patch-keys',
      attrs: {
        tabindex: 0,
        role: 'application',
        'data-composite': '',
        'aria-label': 'Patching cells: arrows choose a cell, Enter opens its patched run',
        'data-testid': 'patching-cells',
        'data-focus-key': 'patching-cells',
      },
      on: {
        keydown: (e) => {
          const at = sel ?? { row: 0, col: 0 };
          const move: Record<string, [number, number]> = {
            ArrowUp: [-1, 0],
            ArrowDown: [1, 0],
            ArrowLeft: [0, -1],
            ArrowRight: [0, 1],
          };
          if (e.key in move) {
            e.preventDefault();
            const [dr, dc] = move[e.key];
            p.onSelect({
              row: Math.max(0, Math.min(view.rows - 1, at.row + dr)),
              col: Math.max(0, Math.min(view.cols - 1, at.col + dc)),
            });
          } else if (e.key === 'Enter' && sel) p.onOpenPatched(sel);
        },
      },
    },
    map,
  );
  return h(
    'div',
    { class: 'patching-view', attrs: { 'data-testid': 'patching' } },
    h('p', {
      class: 'hint',
      text: `Metric (logit difference): clean ${formatValue(view.clean)}, corrupted ${formatValue(view.corrupted)}; each cell normalised to 0 … 1.`,
    }),
    legend({
      scale,
      theme: p.theme,
      min: view.values.reduce((a, v) => Math.min(a, v), 0),
      max: view.values.reduce((a, v) => Math.max(a, v), 1),
      label: 'patched effect (0 = corrupted, 1 = clean)',
    }),
    keys,
    sel
      ? h(
          'p',
          { class: 'patch-detail', attrs: { 'data-testid': 'patch-detail' } },
          patchCellText(view, sel, p.tokens),
          ' ',
          h('button', {
            class: 'tk-button tk-button-primary',
            text: 'Open the patched run',
            attrs: { type: 'button', 'data-testid': 'open-patched' },
            on: { click: () => p.onOpenPatched(sel) },
          }),
          ' ',
          h('button', {
            class: 'tk-button tk-button-secondary',
            text: 'Open this hook (unpatched)',
            attrs: { type: 'button' },
            on: { click: () => p.onOpenHook(view.hooks[sel.row]) },
          }),
        )
      : h('p', {
          class: 'hint',
          text: 'Click a cell for its value; click it again (or press Enter) to step through its patched run.',
        }),
  );
}
