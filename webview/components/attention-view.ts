/**
 * The attention view of a step: the selected head's query × key heatmap, enlarged, with token labels
 * on both axes; small multiples of every head of the layer (click or Enter enlarges one, arrows move
 * between them); masked-out cells hatched and named in the legend. Patterns (`hook_pattern`) use a
 * sequential 0–1 scale; scores (`hook_attn_scores`) a diverging scale over the unmasked entries
 * only, so the −1e9 mask fill is drawn as masked rather than as the scale's minimum.
 */
import type { AttentionView, StepInfo, TensorStats } from '../../protocol/webview';
import { divergingScale, sequentialScale, symmetricExtent, type ColorScale } from '../color';
import { h } from '../dom';
import { formatValue } from '../format';
import { gridMove } from '../keyboard';
import { fitCells, poolMaxAbs, type Grid } from '../raster';
import { attentionStats, hasMasked, isMaskedEntry } from '../stats';
import { heatmap, type HoveredCell } from './heatmap';
import { legend } from './legend';
import { histogramView, statsList } from './summary';
import type { ViewContext } from './tensor-view';

/** Which scale an attention step needs: probabilities or raw scores. */
export function attentionKind(
  step: Pick<StepInfo, 'name'>,
  stats: Pick<TensorStats, 'min' | 'max'>,
): 'pattern' | 'scores' {
  if (/attn_scores$/.test(step.name)) return 'scores';
  if (/pattern$/.test(step.name)) return 'pattern';
  return stats.min >= 0 && stats.max <= 1 ? 'pattern' : 'scores';
}

/** 0 where entry (q, k) of a head is masked out, else 1; undefined when nothing is masked. */
export function headMask(view: AttentionView, head: number): Uint8Array | undefined {
  if (!hasMasked(view)) return undefined;
  const mask = new Uint8Array(view.queries * view.keys);
  for (let q = 0; q < view.queries; q++)
    for (let k = 0; k < view.keys; k++) mask[q * view.keys + k] = isMaskedEntry(view, head, q, k) ? 0 : 1;
  return mask;
}

function headGrid(view: AttentionView, head: number, maxRows: number, maxCols: number): Grid {
  const size = view.queries * view.keys;
  const values = view.data.subarray(head * size, (head + 1) * size);
  return poolMaxAbs(values, view.queries, view.keys, maxRows, maxCols, headMask(view, head));
}

const TILE = 84;

export function attentionView(
  step: StepInfo,
  view: AttentionView,
  selectedHead: number,
  ctx: ViewContext,
  onSelectHead: (head: number) => void,
): HTMLElement {
  const stats = attentionStats(view);
  const kind = attentionKind(step, stats);
  const scale: ColorScale =
    kind === 'scores'
      ? divergingScale(ctx.theme, symmetricExtent(stats.min, stats.max))
      : sequentialScale(ctx.theme, 0, 1);
  const masked = hasMasked(view);
  const head = Math.min(Math.max(0, selectedHead), view.heads - 1);
  const layer = /blocks\.(\d+)/.exec(step.name)?.[1];
  const what = kind === 'scores' ? 'score' : 'weight';

  const describe =
    (h: number) =>
    (cell: HoveredCell): string[] => {
      const [q0, q1] = cell.rows;
      const [k0, k1] = cell.cols;
      const query = q1 - q0 > 1 ? `queries ${q0}–${q1 - 1}` : `query “${view.queryLabels[q0] ?? q0}” (${q0})`;
      const key = k1 - k0 > 1 ? `keys ${k0}–${k1 - 1}` : `key “${view.keyLabels[k0] ?? k0}” (${k0})`;
      return [
        `head ${h} · ${query} → ${key}`,
        cell.masked ? 'masked out' : `${what} ${formatValue(cell.value)}`,
      ];
    };

  // The enlarged head.
  const mainWidth = Math.max(160, ctx.width - 2 * (TILE + 16) - 120);
  const fit = fitCells(view.queries, view.keys, {
    maxWidth: mainWidth,
    maxHeight: 480,
    maxCell: 44,
    square: true,
  });
  const grid = headGrid(view, head, fit.rows, fit.cols);
  const enlarged = heatmap({
    grid,
    theme: ctx.theme,
    colorOf: scale.color,
    cellWidth: fit.cellWidth,
    cellHeight: fit.cellHeight,
    rowLabels: view.queryLabels,
    colLabels: view.keyLabels,
    rowAxis: 'query',
    colAxis: 'key',
    describe: describe(head),
    ariaLabel: `Attention ${kind} of head ${head}: ${view.queries} queries by ${view.keys} keys`,
    attrs: {
      'data-testid': 'attention-heatmap',
      'data-heads': view.heads,
      'data-queries': view.queries,
      'data-keys': view.keys,
      'data-head': head,
    },
  });
  const main = h(
    'div',
    { class: 'attention-main' },
    h('h3', {
      class: 'section-title',
      text: `Head ${head}${layer !== undefined ? ` of layer ${layer}` : ''} · ${kind === 'scores' ? 'scores' : 'pattern'}`,
    }),
    enlarged,
    legend({
      scale,
      theme: ctx.theme,
      min: stats.min,
      max: stats.max,
      masked,
      label: kind === 'scores' ? 'score' : 'attention weight',
    }),
  );

  // Small multiples of every head.
  const tiles = Array.from({ length: view.heads }, (_, i) =>
    headTile(view, i, i === head, scale, ctx, describe(i), onSelectHead),
  );
  const tileGrid = h(
    'div',
    {
      class: 'head-grid',
      attrs: { role: 'group', 'aria-label': `All ${view.heads} heads`, 'data-composite': 'true' },
    },
    ...tiles,
  );
  tileGrid.addEventListener('keydown', (e) => {
    const i = tiles.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    const columns = tiles.filter((t) => t.offsetTop === tiles[0].offsetTop).length;
    const next = gridMove(e.key, i, tiles.length, columns);
    if (next === undefined) return;
    e.preventDefault();
    tiles.forEach((t, j) => (t.tabIndex = j === next ? 0 : -1));
    tiles[next].focus();
  });

  const side = h(
    'div',
    { class: 'view-side' },
    h('h3', { class: 'section-title', text: `All heads${layer !== undefined ? ` of layer ${layer}` : ''}` }),
    h('p', { class: 'hint', text: 'Click or press Enter on a head to enlarge it.' }),
    tileGrid,
    h('h3', { class: 'section-title', text: 'Statistics' }),
    statsList(stats, masked ? 'Over all heads, leaving out masked entries.' : 'Over all heads.'),
    histogramView(
      stats.histogram,
      scale,
      ctx.theme,
      kind === 'scores' ? 'Distribution of scores' : 'Distribution of weights',
    ),
  );
  const caption = `${view.heads} heads × ${view.queries} queries × ${view.keys} keys${masked ? ' · hatched cells are masked out' : ''}`;
  return h(
    'section',
    { class: 'attention-view', attrs: { 'aria-label': 'Attention' } },
    h('p', { class: 'view-caption', text: caption }),
    h('div', { class: 'view-columns' }, main, side),
  );
}

function headTile(
  view: AttentionView,
  head: number,
  selected: boolean,
  scale: ColorScale,
  ctx: ViewContext,
  describe: (cell: HoveredCell) => string[],
  onSelect: (head: number) => void,
): HTMLButtonElement {
  const fit = fitCells(view.queries, view.keys, {
    maxWidth: TILE,
    maxHeight: TILE,
    maxCell: 16,
    square: true,
  });
  const map = heatmap({
    grid: headGrid(view, head, fit.rows, fit.cols),
    theme: ctx.theme,
    colorOf: scale.color,
    cellWidth: fit.cellWidth,
    cellHeight: fit.cellHeight,
    describe,
    ariaLabel: `Head ${head}`,
  });
  return h(
    'button',
    {
      class: `head-tile${selected ? ' selected' : ''}`,
      attrs: {
        type: 'button',
        'aria-pressed': selected ? 'true' : 'false',
        'aria-label': `Head ${head}${selected ? ' (enlarged)' : ''}`,
        tabindex: selected ? 0 : -1,
        'data-focus-key': `head-${head}`,
      },
      on: { click: () => onSelect(head) },
    },
    map,
    h('span', { class: 'head-tile-label', text: `H${head}`, attrs: { 'aria-hidden': 'true' } }),
  );
}
