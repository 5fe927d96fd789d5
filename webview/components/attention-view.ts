/**
 * The attention view of a step: the selected head's query × key heatmap, enlarged, with token labels
 * on both axes; small multiples of every head of the layer (click or Enter enlarges one, arrows move
 * between them); masked-out cells hatched and named in the legend. Patterns (`hook_pattern`) use a
 * sequential 0–1 scale; scores (`hook_attn_scores`) a diverging scale over the unmasked entries
 * only, so the −1e9 mask fill is drawn as masked rather than as the scale's minimum.
 */
import type { AttentionOverview, AttentionView, StepInfo, TensorStats } from '../../protocol/webview';
import { attentionOverview } from './attention-overview';
import { divergingScale, sequentialScale, symmetricExtent, type ColorScale } from '../color';
import { h, pixelRatio } from '../dom';
import { formatValue, visibleToken } from '../format';
import { gridMove } from '../keyboard';
import { fitCells, poolMaxAbs, type Grid } from '../raster';
import { attentionStats, hasMasked, headOnly, headSummary, isMaskedEntry } from '../stats';
import type { AttentionMode } from '../state';
import { attentionLines } from './attention-lines';
import { pinQueries } from './attention-pin';
import type { AttentionZoom } from './attention-zoom';
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

/** Width of the side column (head tiles, statistics): 340 px, growing with wide panels up to 480 px. */
export function sideWidth(panel: number): number {
  return Math.round(Math.max(340, Math.min(480, panel * 0.3)));
}

/** Head tiles per row of the side column: 2 up to 4 heads, 3 up to 12, then 4. */
export function tilesPerRow(heads: number): number {
  return heads <= 4 ? 2 : heads <= 12 ? 3 : 4;
}
/** Room left of and above the enlarged heatmap for the token labels. */
const LABEL_ROOM = 96;

/** What the attention view shows and where it sends the user's choices. */
export interface AttentionChoices {
  selectedHead: number;
  mode: AttentionMode;
  logCounts: boolean;
  onSelectHead: (head: number) => void;
  onMode: (mode: AttentionMode) => void;
  onLogCounts: (on: boolean) => void;
  /** Every pattern of the pass, once the host sent it (the overview mode asks for it). */
  overview?: AttentionOverview;
  /** Open a layer's pattern at a head (from the overview). */
  onOpen: (name: string, head: number) => void;
  /** The pinned query row of the heatmap, and how to pin another (undefined unpins). */
  pinnedQuery?: number;
  onPin?: (query: number | undefined) => void;
  /** Zoom and pan over a grid the engine pooled (long inputs). */
  zoom?: AttentionZoom;
}

/**
 * The enlarged heatmap's cell size: the whole main column, square cells (fractional CSS px under
 * 8 px, where the canvas is scaled; whole pixels above), at most 44 px; pooled only when a cell
 * would be under one device pixel.
 */
export function mainCells(
  queries: number,
  keys: number,
  width: number,
  dpr = 1,
): { cell: number; rows: number; cols: number } {
  const exact = Math.min(44, width / Math.max(1, keys));
  // Whole pixels once cells are large enough to have gaps between them (no uneven gap lines).
  const cell = exact >= 8 ? Math.floor(exact) : exact;
  if (cell * dpr >= 1) return { cell, rows: queries, cols: keys };
  const factor = Math.ceil(keys / Math.max(1, Math.floor(width * dpr)));
  return {
    cell: width / Math.ceil(keys / factor),
    rows: Math.ceil(queries / factor),
    cols: Math.ceil(keys / factor),
  };
}

export function attentionView(
  step: StepInfo,
  view: AttentionView,
  choices: AttentionChoices,
  ctx: ViewContext,
): HTMLElement {
  // A pooled (long) step: the engine's stats over the whole tensor, not a pass over every head here.
  const allStats = view.pooled ? step.stats : attentionStats(view);
  const kind = attentionKind(step, allStats);
  const scale: ColorScale =
    kind === 'scores'
      ? divergingScale(ctx.theme, symmetricExtent(allStats.min, allStats.max))
      : sequentialScale(ctx.theme, 0, 1);
  const masked = hasMasked(view);
  const head = Math.min(Math.max(0, choices.selectedHead), view.heads - 1);
  const layer = /blocks\.(\d+)/.exec(step.name)?.[1];
  const what = kind === 'scores' ? 'score' : 'weight';
  const twoColumns = ctx.width >= 720;
  const sideW = sideWidth(ctx.width);
  // Room for the row labels: as wide as the longest one needs (about 7 px a character), at most LABEL_ROOM.
  const longest = view.queryLabels.reduce((m, l) => Math.max(m, visibleToken(l).length), 1);
  const labelRoom = Math.min(LABEL_ROOM, longest * 7 + 20);
  const mainWidth = Math.max(160, (twoColumns ? ctx.width - sideW - 32 : ctx.width) - labelRoom);

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

  let body: HTMLElement;
  if (choices.mode === 'lines' && kind === 'pattern') {
    body = attentionLines(view, head, ctx.theme, twoColumns ? ctx.width - sideW - 32 : ctx.width);
  } else if (choices.mode === 'overview') {
    const patterns = sequentialScale(ctx.theme, 0, 1);
    body = choices.overview
      ? attentionOverview(
          choices.overview,
          patterns,
          ctx.theme,
          twoColumns ? ctx.width - sideW - 32 : ctx.width,
          { name: step.name, head },
          choices.onOpen,
        )
      : h('p', {
          class: 'hint',
          text: 'Computing every attention pattern…',
          attrs: { 'data-testid': 'overview-pending' },
        });
  } else if (view.pooled && choices.zoom) {
    body = choices.zoom.element(step.name, view, head, scale, ctx.theme, mainWidth);
  } else {
    const fit = mainCells(view.queries, view.keys, mainWidth, pixelRatio());
    const grid = headGrid(view, head, fit.rows, fit.cols);
    body = heatmap({
      grid,
      theme: ctx.theme,
      colorOf: scale.color,
      cellWidth: fit.cell,
      cellHeight: fit.cell,
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
    if (choices.onPin && kind === 'pattern')
      body = h(
        'div',
        {},
        body,
        pinQueries(body, { view, head, grid, scale, pinned: choices.pinnedQuery, onPin: choices.onPin }),
      );
  }
  const modes = segmented(
    [
      { id: 'heatmap', label: 'Heatmap' },
      {
        id: 'lines',
        label: 'Lines',
        disabled: kind !== 'pattern' ? 'The line view draws weights: step to the pattern' : undefined,
      },
      { id: 'overview', label: 'Layers × heads' },
    ],
    choices.mode,
    (m) => choices.onMode(m as AttentionMode),
  );
  const main = h(
    'div',
    { class: 'attention-main' },
    h(
      'div',
      { class: 'attention-toolbar' },
      h('h3', {
        class: 'section-title',
        text:
          choices.mode === 'overview'
            ? 'Every layer and head · patterns'
            : `Head ${head}${layer !== undefined ? ` of layer ${layer}` : ''} · ${kind === 'scores' ? 'scores' : 'pattern'}`,
      }),
      modes,
    ),
    body,
    legend({
      scale,
      theme: ctx.theme,
      min: allStats.min,
      max: allStats.max,
      masked,
      label: kind === 'scores' ? 'score' : 'attention weight',
    }),
  );

  const buildSide = (): HTMLElement => {
    // Small multiples of every head, as large as the side column allows.
    const perRow = tilesPerRow(view.heads);
    const tile = Math.max(64, Math.floor((sideW - (perRow - 1) * 8) / perRow) - 12);
    const tiles = Array.from({ length: view.heads }, (_, i) =>
      headTile(view, i, i === head, scale, ctx, describe(i), choices.onSelectHead, tile),
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

    const stats = attentionStats(headOnly(view, head));
    const facts = kind === 'pattern' ? headFacts(view, head) : null;
    const side = h(
      'div',
      { class: 'view-side attention-side' },
      h('h3', {
        class: 'section-title',
        text: `All heads${layer !== undefined ? ` of layer ${layer}` : ''}`,
      }),
      h('p', { class: 'hint', text: 'Click or press Enter on a head to enlarge it.' }),
      tileGrid,
      h('h3', { class: 'section-title', text: `Head ${head}`, attrs: { 'data-testid': 'head-stats' } }),
      statsList(stats, masked ? `Over head ${head}, leaving out masked entries.` : `Over head ${head}.`),
      facts,
      histogramView(
        stats.histogram,
        scale,
        ctx.theme,
        kind === 'scores' ? `Scores of head ${head}` : `Weights of head ${head}`,
        { on: choices.logCounts, toggle: choices.onLogCounts },
      ),
    );
    side.style.flexBasis = `${sideW}px`;
    side.style.width = `${sideW}px`;
    side.style.maxWidth = `${sideW}px`;
    tileGrid.style.maxWidth = `${sideW}px`;
    return side;
  };
  // A long (pooled) step draws its main grid first and the side column in the next task, so no
  // single task blocks the panel for long.
  let side: HTMLElement;
  if (view.pooled) {
    side = h('div', { class: 'view-side attention-side' });
    side.style.flexBasis = `${sideW}px`;
    side.style.width = `${sideW}px`;
    const placeholder = side;
    setTimeout(() => placeholder.isConnected && placeholder.replaceWith(buildSide()), 0);
  } else side = buildSide();
  const caption = `${view.heads} heads × ${view.queries} queries × ${view.keys} keys${masked ? ' · faint stripes mark masked-out cells' : ''}`;
  return h(
    'section',
    { class: 'attention-view', attrs: { 'aria-label': 'Attention' } },
    h('p', { class: 'view-caption', text: caption }),
    h('div', { class: `view-columns${twoColumns ? ' two' : ''}` }, main, side),
  );
}

/** What the head does, for patterns: entropy, and weight on itself, the previous and the first token. */
function headFacts(view: AttentionView, head: number): HTMLElement {
  const f = headSummary(view, head);
  const item = (name: string, value: number, title: string) =>
    Number.isNaN(value)
      ? null
      : h(
          'div',
          { class: 'stat' },
          h('dt', { text: name, attrs: { title } }),
          h('dd', { text: formatValue(value, 3), attrs: { title } }),
        );
  return h(
    'dl',
    { class: 'stats head-facts', attrs: { 'aria-label': `What head ${head} attends to` } },
    item('entropy', f.entropy, 'Mean over queries of −Σ w·ln w, in nats (0: each query looks at one key)'),
    item('→ self', f.self, 'Mean weight on the query’s own position'),
    item(
      '→ previous',
      f.previous,
      'Mean weight on the position just before the query (a previous-token head is near 1)',
    ),
    item('→ first', f.first, 'Mean weight on position 0 (an attention sink is near 1)'),
  );
}

/** A small row of toggle buttons (one pressed). */
function segmented(
  options: { id: string; label: string; disabled?: string }[],
  current: string,
  onPick: (id: string) => void,
): HTMLElement {
  return h(
    'div',
    { class: 'segmented', attrs: { role: 'group', 'aria-label': 'Attention view' } },
    ...options.map((o) =>
      h('button', {
        class: `segmented-button${o.id === current ? ' selected' : ''}`,
        text: o.label,
        attrs: {
          type: 'button',
          'aria-pressed': o.id === current ? 'true' : 'false',
          disabled: o.disabled !== undefined,
          title: o.disabled,
          'data-mode': o.id,
        },
        on: { click: () => onPick(o.id) },
      }),
    ),
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
  size: number,
): HTMLButtonElement {
  const fit = fitCells(view.queries, view.keys, {
    maxWidth: size,
    maxHeight: size,
    maxCell: 24,
    square: true,
  });
  const map = (): HTMLElement =>
    heatmap({
      grid: headGrid(view, head, fit.rows, fit.cols),
      theme: ctx.theme,
      colorOf: scale.color,
      cellWidth: fit.cellWidth,
      cellHeight: fit.cellHeight,
      describe,
      ariaLabel: `Head ${head}`,
    });
  // A long (pooled) step fills each tile in a task of its own.
  const slot = view.pooled ? h('div', { class: 'head-tile-pending' }) : map();
  if (view.pooled) setTimeout(() => slot.isConnected && slot.replaceWith(map()), 0);
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
    slot,
    h('span', { class: 'head-tile-label', text: `H${head}`, attrs: { 'aria-hidden': 'true' } }),
  );
}
