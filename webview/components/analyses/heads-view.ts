/**
 * The head detectors as three layers × heads grids (previous-token, duplicate-token, induction),
 * one button per head colored by its score (0–1). Clicking a head opens its attention pattern in
 * the Step tab; in "choose heads" mode a click adds it to (or drops it from) the heads to ablate.
 */
import type { AnalysisReply, HeadScores } from '../../../protocol/analyses';
import { cssRgb, luminance, sequentialScale, type ThemeColors } from '../../color';
import { h } from '../../dom';
import { formatValue } from '../../format';

type HeadsView = Extract<AnalysisReply['view'], { analysis: 'heads' }>;

export const DETECTORS: { key: keyof HeadScores; title: string; what: string }[] = [
  {
    key: 'previous_token',
    title: 'Previous token',
    what: 'mean attention from each position to the one before it',
  },
  { key: 'duplicate_token', title: 'Duplicate token', what: 'attention to earlier copies of the same token' },
  {
    key: 'induction',
    title: 'Induction',
    what: 'attention to the token after an earlier copy, on repeated random tokens',
  },
];

/** The best head of a score table: [layer, head, score]. */
export function bestHead(scores: number[][]): [number, number, number] | undefined {
  let best: [number, number, number] | undefined;
  scores.forEach((row, l) =>
    row.forEach((v, hd) => {
      if (Number.isFinite(v) && (!best || v > best[2])) best = [l, hd, v];
    }),
  );
  return best;
}

export interface HeadsProps {
  view: HeadsView;
  theme: ThemeColors;
  /** Heads chosen for ablation, as `layer.head`. */
  chosen: readonly string[];
  choosing: boolean;
  onChoosing: (on: boolean) => void;
  onOpen: (layer: number, head: number) => void;
  onToggle: (layer: number, head: number) => void;
}

function grid(p: HeadsProps, d: (typeof DETECTORS)[number]): HTMLElement {
  const scores = p.view[d.key];
  const scale = sequentialScale(p.theme, 0, 1);
  const heads = Math.max(0, ...scores.map((r) => r.length));
  const best = bestHead(scores);
  const header = h(
    'div',
    { class: 'heads-row', attrs: { 'aria-hidden': 'true' } },
    h('span', { class: 'heads-layer' }),
    ...Array.from({ length: heads }, (_, i) => h('span', { class: 'heads-col', text: `H${i}` })),
  );
  const rows = scores.map((row, layer) =>
    h(
      'div',
      { class: 'heads-row' },
      h('span', { class: 'heads-layer', text: `L${layer}` }),
      ...row.map((v, head) => {
        const key = `${layer}.${head}`;
        const chosen = p.chosen.includes(key);
        const isBest = best !== undefined && best[0] === layer && best[1] === head;
        const cell = h('button', {
          class: `heads-cell${chosen ? ' chosen' : ''}${isBest ? ' best' : ''}`,
          text: Number.isFinite(v) ? v.toFixed(2) : '–',
          attrs: {
            type: 'button',
            'data-testid': 'head-cell',
            'data-detector': d.key,
            'data-layer': layer,
            'data-head': head,
            'data-score': v,
            'aria-pressed': p.choosing ? (chosen ? 'true' : 'false') : undefined,
            'aria-label': `${d.title} score of layer ${layer} head ${head}: ${formatValue(v)}${chosen ? ', chosen for ablation' : ''}`,
            title: p.choosing
              ? `L${layer} H${head}: click to ${chosen ? 'drop from' : 'add to'} the heads to ablate`
              : `L${layer} H${head}: ${formatValue(v)} — click to open its pattern`,
          },
          on: { click: () => (p.choosing ? p.onToggle(layer, head) : p.onOpen(layer, head)) },
        });
        const bg = scale.rgb(Number.isFinite(v) ? v : 0);
        cell.style.backgroundColor = cssRgb(bg);
        cell.classList.add(luminance(bg) > 0.18 ? 'on-light' : 'on-dark');
        return cell;
      }),
    ),
  );
  return h(
    'section',
    {
      class: 'heads-grid',
      attrs: { 'data-testid': `heads-${d.key}`, 'aria-label': `${d.title} scores, layers × heads` },
    },
    h('h3', { class: 'analysis-subtitle', text: d.title }),
    h('p', {
      class: 'hint',
      text: `${d.what}${best ? ` · best L${best[0]} H${best[1]} (${best[2].toFixed(2)})` : ''}`,
    }),
    header,
    ...rows,
  );
}

export function headsView(p: HeadsProps): HTMLElement {
  const toggle = h(
    'label',
    { class: 'heads-choose' },
    h('input', {
      attrs: { type: 'checkbox', 'data-testid': 'choose-heads', checked: p.choosing },
      on: { change: (e) => p.onChoosing((e.target as HTMLInputElement).checked) },
    }),
    ` Click chooses heads to ablate${p.chosen.length ? ` (${p.chosen.length} chosen)` : ''}`,
  );
  return h(
    'div',
    { class: 'heads-view', attrs: { 'data-testid': 'heads' } },
    toggle,
    h('div', { class: 'heads-grids' }, ...DETECTORS.map((d) => grid(p, d))),
  );
}
