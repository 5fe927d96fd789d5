/**
 * The line view of one head (after bertviz's head view): the query tokens on the left, the key
 * tokens on the right, a line from query q to key k weighted by the attention weight. Hovering a
 * token isolates its lines (a query: where it looks; a key: who looks at it); the tooltip lists the
 * strongest ones. Drawn on one canvas with the 2D context (lines, not cells).
 */
import type { AttentionView } from '../../protocol/webview';
import { cssRgb, type ThemeColors } from '../color';
import { h, pixelRatio } from '../dom';
import { formatValue, visibleToken } from '../format';
import { isMaskedEntry } from '../stats';
import { hideTooltip, showTooltip } from './tooltip';

/** Weights below this are not drawn (they would only grey the picture). */
const MIN_WEIGHT = 0.02;
const LABEL_WIDTH = 120;

/** Row height for `n` tokens: 18 px while they fit a readable height, never under 12 px. */
export function lineRowHeight(n: number, maxHeight = 720): number {
  return Math.max(12, Math.min(18, Math.floor(maxHeight / Math.max(1, n))));
}

/** The lines of a head worth drawing: [query, key, weight], masked and tiny weights left out. */
export function headLines(view: AttentionView, head: number, min = MIN_WEIGHT): [number, number, number][] {
  const lines: [number, number, number][] = [];
  const base = head * view.queries * view.keys;
  for (let q = 0; q < view.queries; q++) {
    for (let k = 0; k < view.keys; k++) {
      const w = view.data[base + q * view.keys + k];
      if (!(w >= min) || isMaskedEntry(view, head, q, k)) continue;
      lines.push([q, k, w]);
    }
  }
  return lines;
}

export function attentionLines(
  view: AttentionView,
  head: number,
  theme: ThemeColors,
  width: number,
): HTMLElement {
  const rowH = lineRowHeight(Math.max(view.queries, view.keys));
  const height = Math.max(view.queries, view.keys) * rowH + 8;
  const cssWidth = Math.max(360, Math.min(width, 900));
  const dpr = pixelRatio();
  const canvas = h('canvas', {
    class: 'attention-lines-canvas',
    attrs: {
      role: 'img',
      'aria-label': `Line view of head ${head}: ${view.queries} query tokens to ${view.keys} key tokens`,
      'data-testid': 'attention-lines',
    },
  });
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${height}px`;
  const lines = headLines(view, head);
  const x0 = LABEL_WIDTH;
  const x1 = cssWidth - LABEL_WIDTH;
  const y = (i: number) => 4 + i * rowH + rowH / 2;
  const ink = cssRgb(theme.ink);
  const light = theme.kind === 'light' || theme.kind === 'high-contrast-light';
  const stroke = light ? '0, 90, 200' : '90, 170, 255';

  const draw = (focus?: { side: 'query' | 'key'; index: number }) => {
    const g = canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssWidth, height);
    g.lineWidth = 1.5;
    for (const [q, k, w] of lines) {
      const on = !focus || (focus.side === 'query' ? q === focus.index : k === focus.index);
      if (!on) continue;
      g.strokeStyle = `rgba(${stroke}, ${Math.min(1, w * (focus ? 1.2 : 0.9))})`;
      g.beginPath();
      g.moveTo(x0, y(q));
      g.lineTo(x1, y(k));
      g.stroke();
    }
    g.font = `${Math.min(12, rowH - 2)}px monospace`;
    g.textBaseline = 'middle';
    const label = (text: string, x: number, yy: number, align: CanvasTextAlign, strong: boolean) => {
      g.textAlign = align;
      g.fillStyle = strong ? cssRgb(light ? [0, 0, 0] : [255, 255, 255]) : ink;
      g.fillText(text.length > 14 ? `${text.slice(0, 13)}…` : text, x, yy);
    };
    for (let q = 0; q < view.queries; q++)
      label(
        visibleToken(view.queryLabels[q] ?? `#${q}`),
        x0 - 8,
        y(q),
        'right',
        focus?.side === 'query' && focus.index === q,
      );
    for (let k = 0; k < view.keys; k++)
      label(
        visibleToken(view.keyLabels[k] ?? `#${k}`),
        x1 + 8,
        y(k),
        'left',
        focus?.side === 'key' && focus.index === k,
      );
  };
  draw();

  let focused: string | undefined;
  canvas.addEventListener('mousemove', (e) => {
    const rect = canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const row = Math.floor((e.clientY - rect.top - 4) / rowH);
    const side = px < x0 ? 'query' : px > x1 ? 'key' : undefined;
    const count = side === 'query' ? view.queries : view.keys;
    if (!side || row < 0 || row >= count) {
      if (focused !== undefined) draw();
      focused = undefined;
      return hideTooltip();
    }
    const key = `${side}${row}`;
    if (key !== focused) draw({ side, index: row });
    focused = key;
    const mine = lines.filter(([q, k]) => (side === 'query' ? q : k) === row).sort((a, b) => b[2] - a[2]);
    const token = side === 'query' ? view.queryLabels[row] : view.keyLabels[row];
    showTooltip(
      e.clientX,
      e.clientY,
      [
        `${side} “${token ?? row}” (${row}) · head ${head}`,
        ...mine
          .slice(0, 5)
          .map(([q, k, w]) =>
            side === 'query'
              ? `→ “${view.keyLabels[k] ?? k}” (${k}) ${formatValue(w, 3)}`
              : `← “${view.queryLabels[q] ?? q}” (${q}) ${formatValue(w, 3)}`,
          ),
        mine.length === 0 ? 'no weight above 0.02' : '',
      ].filter(Boolean),
    );
  });
  canvas.addEventListener('mouseleave', () => {
    focused = undefined;
    draw();
    hideTooltip();
  });
  return h(
    'div',
    { class: 'attention-lines' },
    h(
      'div',
      { class: 'attention-lines-axes', attrs: { 'aria-hidden': 'true' } },
      h('span', { text: 'queries (attending)' }),
      h('span', { text: 'keys (attended to)' }),
    ),
    canvas,
  );
}
