/**
 * The logit lens: layers (the embeddings first) × positions; each cell the residual's top token
 * through the final norm and unembedding, with its probability as the cell's color. Hover or focus
 * a cell for the top-k; with a target, its probability and rank. Long inputs page by 32 positions.
 */
import type { AnalysisReply } from '../../../protocol/analyses';
import { cssRgb, luminance, sequentialScale, type ThemeColors } from '../../color';
import { h } from '../../dom';
import { visibleToken } from '../../format';
import { hideTooltip, showTooltip } from '../tooltip';
import {
  LENS_PAGE,
  lensCell,
  lensRowLabel,
  lensWindow,
  percentText,
  tokenLabel,
  type Labels,
} from './labels';

type LensView = Extract<AnalysisReply['view'], { analysis: 'lens' }>;

export interface LensProps {
  view: LensView;
  labels: Labels;
  /** The input's tokens (one per position). */
  tokens: readonly string[];
  theme: ThemeColors;
  from: number;
  onPage: (from: number) => void;
}

export function lensView(p: LensProps): HTMLElement {
  const { view, labels } = p;
  const scale = sequentialScale(p.theme, 0, 1);
  const [from, to] = lensWindow(view.positions, p.from);
  const describe = (d: number, t: number): string[] => {
    const lines = [`${view.hooks[d]} · position ${t} (${visibleToken(p.tokens[t] ?? '')})`];
    for (const { id, prob } of lensCell(view, d, t))
      lines.push(`${tokenLabel(labels, id)}  ${percentText(prob)}`);
    if (view.target) {
      const i = d * view.positions + t;
      lines.push(
        `target ${tokenLabel(labels, view.target.id)}: ${percentText(view.target.probs[i])}, rank ${view.target.ranks[i]}`,
      );
    }
    return lines;
  };
  const table = h('table', {
    class: 'lens-grid',
    attrs: { 'data-testid': 'lens-grid', 'data-layers': view.hooks.length, 'data-positions': view.positions },
  });
  const head = h('tr', {}, h('th', { class: 'lens-corner', text: 'layer \\ token' }));
  for (let t = from; t < to; t++)
    head.append(
      h('th', {
        class: 'lens-col',
        text: visibleToken(p.tokens[t] ?? String(t)),
        attrs: { scope: 'col', title: `position ${t}` },
      }),
    );
  table.append(h('thead', {}, head));
  const body = h('tbody');
  // The last layer (the model's own logits) on top, as a reader looks for the answer first.
  for (let d = view.hooks.length - 1; d >= 0; d--) {
    const row = h(
      'tr',
      {},
      h('th', {
        class: 'lens-row',
        text: lensRowLabel(view.hooks[d]),
        attrs: { scope: 'row', title: view.hooks[d] },
      }),
    );
    for (let t = from; t < to; t++) {
      const top = lensCell(view, d, t)[0];
      const prob = view.target ? view.target.probs[d * view.positions + t] : top.prob;
      const cell = h(
        'td',
        {
          class: 'lens-cell',
          attrs: {
            tabindex: 0,
            'data-testid': 'lens-cell',
            'data-depth': d,
            'data-position': t,
            'aria-label': describe(d, t).join('; '),
          },
          on: {
            mouseenter: (e) => showTooltip(e.clientX, e.clientY, describe(d, t)),
            mouseleave: hideTooltip,
            focus: () => {
              const r = cell.getBoundingClientRect();
              showTooltip(r.right, r.bottom, describe(d, t));
            },
            blur: hideTooltip,
          },
        },
        h('span', { class: 'lens-token', text: tokenLabel(labels, top.id) }),
        h('span', { class: 'lens-prob', text: percentText(top.prob) }),
      );
      const bg = scale.rgb(prob);
      cell.style.backgroundColor = cssRgb(bg);
      // Dark text on light cells and light text on dark ones, whatever the theme.
      cell.classList.add(luminance(bg) > 0.18 ? 'on-light' : 'on-dark');
      row.append(cell);
    }
    body.append(row);
  }
  table.append(body);
  const pager =
    view.positions > LENS_PAGE
      ? h(
          'div',
          { class: 'lens-pager' },
          h('button', {
            class: 'tk-button tk-button-secondary',
            text: '◀ earlier',
            attrs: { type: 'button', disabled: from === 0 },
            on: { click: () => p.onPage(from - LENS_PAGE) },
          }),
          h('span', { class: 'hint', text: `positions ${from}–${to - 1} of ${view.positions}` }),
          h('button', {
            class: 'tk-button tk-button-secondary',
            text: 'later ▶',
            attrs: { type: 'button', disabled: to >= view.positions },
            on: { click: () => p.onPage(from + LENS_PAGE) },
          }),
        )
      : null;
  const caption = view.target
    ? `Color: probability of ${tokenLabel(labels, view.target.id)}; text: the top token and its probability.`
    : 'Color and text: the top token of each layer’s residual and its probability (hover for the top ' +
      view.k +
      ').';
  return h(
    'div',
    { class: 'lens-view' },
    h('p', { class: 'hint', text: caption }),
    pager,
    h('div', { class: 'lens-scroll' }, table),
  );
}
