/**
 * Pinning a query row of the enlarged attention heatmap: a click on a row (or ↑/↓ with the heatmap
 * focused) pins that query; the row is outlined on the canvas and the keys it reads are shown as a
 * strip of tokens shaded by their weight, strongest listed first. Click the row again (or Escape)
 * to unpin. Works on pooled grids too (a shown row then stands for a band of queries: its first).
 */
import type { AttentionView } from '../../protocol/webview';
import { cssRgb, luminance, type ColorScale } from '../color';
import { h } from '../dom';
import { formatValue, visibleToken } from '../format';
import type { Grid } from '../raster';

/** The weights query `q` of `head` gives every key (masked keys as NaN). */
export function queryRow(view: AttentionView, head: number, q: number): Float32Array {
  const base = (head * view.queries + q) * view.keys;
  const row = view.data.slice(base, base + view.keys);
  if (view.mask) for (let k = 0; k < view.keys; k++) if (view.mask[q * view.keys + k] === 0) row[k] = NaN;
  return row;
}

/** The `n` keys the row reads most, strongest first: [key, weight]. */
export function strongestKeys(row: Float32Array, n: number): [number, number][] {
  const keys: [number, number][] = [];
  row.forEach((w, k) => Number.isFinite(w) && keys.push([k, w]));
  return keys.sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** The source query of a shown row of the grid. */
export function queryOfRow(grid: Grid, row: number): number {
  return grid.rowBands[Math.max(0, Math.min(grid.rows - 1, row))];
}

export interface PinProps {
  view: AttentionView;
  head: number;
  grid: Grid;
  scale: ColorScale;
  pinned?: number;
  onPin: (query: number | undefined) => void;
}

/**
 * Wire the heatmap `map` (its canvas) for pinning, and return the strip of the pinned query's keys
 * (or a hint). The outline is a positioned element over the canvas.
 */
export function pinQueries(map: HTMLElement, p: PinProps): HTMLElement {
  const { view, grid } = p;
  const canvas = map.querySelector('canvas');
  const body = map.querySelector<HTMLElement>('.heatmap-body');
  const pinned = p.pinned !== undefined && p.pinned < view.queries ? p.pinned : undefined;
  if (canvas && body) {
    canvas.classList.add('pinnable');
    canvas.addEventListener('click', (e) => {
      const r = canvas.getBoundingClientRect();
      const row = Math.floor(((e.clientY - r.top) / r.height) * grid.rows);
      const q = queryOfRow(grid, row);
      p.onPin(q === pinned ? undefined : q);
    });
    body.tabIndex = 0;
    body.dataset.composite = '';
    body.dataset.focusKey = 'attention-pin';
    body.setAttribute('aria-label', 'Attention heatmap: ↑ and ↓ pin a query row, Escape unpins');
    body.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && pinned !== undefined) return (e.preventDefault(), p.onPin(undefined));
      const step = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : 0;
      if (!step) return;
      e.preventDefault();
      const next =
        pinned === undefined
          ? step > 0
            ? 0
            : view.queries - 1
          : Math.max(0, Math.min(view.queries - 1, pinned + step));
      p.onPin(next);
    });
    if (pinned !== undefined) {
      // The shown row holding the pinned query.
      let row = 0;
      while (row + 1 < grid.rows && grid.rowBands[row + 1] <= pinned) row++;
      const outline = h('div', {
        class: 'pin-outline',
        attrs: { 'aria-hidden': 'true', 'data-testid': 'pinned-row', 'data-query': pinned },
      });
      const rowHeight = parseFloat(canvas.style.height) / grid.rows;
      outline.style.top = `${row * rowHeight}px`;
      outline.style.height = `${Math.max(2, rowHeight)}px`;
      outline.style.width = canvas.style.width;
      body.classList.add('pin-host');
      body.append(outline);
    }
  }
  if (pinned === undefined)
    return h('p', { class: 'hint', text: 'Click a row to pin that query and see the tokens it reads.' });
  const row = queryRow(view, p.head, pinned);
  const strip = h('div', {
    class: 'pin-strip',
    attrs: { role: 'list', 'aria-label': `Keys read by query ${pinned}` },
  });
  row.forEach((w, k) => {
    const read = Number.isFinite(w);
    const chip = h('span', {
      class: `pin-token${read ? '' : ' masked'}`,
      text: visibleToken(view.keyLabels[k] ?? String(k)),
      attrs: {
        role: 'listitem',
        title: read ? `key ${k}: ${formatValue(w)}` : `key ${k}: masked out`,
        'data-key': k,
        'data-weight': read ? w : '',
      },
    });
    if (read) {
      const bg = p.scale.rgb(w);
      chip.style.backgroundColor = cssRgb(bg);
      chip.classList.add(luminance(bg) > 0.18 ? 'on-light' : 'on-dark');
    }
    strip.append(chip);
  });
  const top = strongestKeys(row, 5)
    .map(([k, w]) => `${visibleToken(view.keyLabels[k] ?? String(k))} ${formatValue(w, 3)}`)
    .join(' · ');
  return h(
    'div',
    { class: 'pin-panel', attrs: { 'data-testid': 'pinned-query', 'data-query': pinned } },
    h(
      'p',
      { class: 'hint' },
      `Query ${pinned} “${visibleToken(view.queryLabels[pinned] ?? '')}” reads: ${top}`,
    ),
    strip,
  );
}
