/**
 * Ablation: the heads chosen in the detector grid (or typed as "2.1, 3.0"), zero- or mean-ablated;
 * the pass reruns from the first changed layer. Shown: Δ loss, the size of the logit change, and a
 * positions heatmap of how much the top token's probability moved; click a position for its top-k
 * before and after.
 */
import type { AnalysisReply } from '../../../protocol/analyses';
import { cssRgb, divergingScale, type ThemeColors } from '../../color';
import { h } from '../../dom';
import { formatValue, visibleToken } from '../../format';
import { percentText, tokenLabel, type Labels } from './labels';

type AblationView = Extract<AnalysisReply['view'], { analysis: 'ablation' }>;

/** Per position: the change in probability of the token that was on top before the ablation. */
export function topShift(view: AblationView): number[] {
  return view.top.map(({ before, after }) => {
    const top = before[0];
    if (!top) return 0;
    const now = after.find((x) => x.id === top.id);
    return (now?.prob ?? 0) - top.prob;
  });
}

export interface AblationProps {
  view?: AblationView;
  labels?: Labels;
  tokens: readonly string[];
  theme: ThemeColors;
  selected?: number;
  onSelect: (position: number) => void;
}

function changes(
  view: AblationView,
  labels: Labels,
  position: number,
  tokens: readonly string[],
): HTMLElement {
  const row = view.top.find((p) => p.position === position) ?? view.top[position];
  const list = (items: { id: number; prob: number }[]) =>
    h(
      'ol',
      { class: 'ablation-top' },
      ...items.map((x) => h('li', { text: `${tokenLabel(labels, x.id)} ${percentText(x.prob)}` })),
    );
  return h(
    'div',
    {
      class: 'ablation-detail',
      attrs: { 'data-testid': 'ablation-detail', 'data-position': row?.position ?? position },
    },
    h('h3', {
      class: 'analysis-subtitle',
      text: `After position ${row?.position ?? position} (${visibleToken(tokens[row?.position ?? position] ?? '')})`,
    }),
    row
      ? h(
          'div',
          { class: 'ablation-columns' },
          h('div', {}, h('div', { class: 'hint', text: 'before' }), list(row.before)),
          h('div', {}, h('div', { class: 'hint', text: 'ablated' }), list(row.after)),
        )
      : null,
  );
}

export function ablationView(p: AblationProps): HTMLElement {
  const { view } = p;
  if (!view || !p.labels)
    return h('p', {
      class: 'hint',
      text: 'Choose heads in the Head detectors view (or type them above) and run the ablation.',
    });
  const shifts = topShift(view);
  const scale = divergingScale(p.theme, Math.max(1e-6, ...shifts.map(Math.abs)));
  const strip = h('div', {
    class: 'ablation-strip',
    attrs: {
      role: 'listbox',
      'aria-label': 'Change of the top token’s probability per position',
      'data-testid': 'ablation-heatmap',
    },
  });
  shifts.forEach((d, i) => {
    const position = view.top[i].position;
    const cell = h('button', {
      class: `ablation-cell${p.selected === position ? ' selected' : ''}`,
      text: visibleToken(p.tokens[position] ?? String(position)),
      attrs: {
        type: 'button',
        role: 'option',
        'aria-selected': p.selected === position ? 'true' : 'false',
        'data-position': position,
        'data-shift': d,
        title: `position ${position}: top token ${d >= 0 ? '+' : ''}${(d * 100).toFixed(2)} points`,
      },
      on: { click: () => p.onSelect(position) },
    });
    cell.style.borderBottomColor = cssRgb(scale.rgb(d));
    strip.append(cell);
  });
  const loss = view.loss
    ? `loss ${formatValue(view.loss.before)} → ${formatValue(view.loss.after)} (Δ ${view.loss.delta >= 0 ? '+' : ''}${formatValue(view.loss.delta)})`
    : '';
  return h(
    'div',
    { class: 'ablation-view', attrs: { 'data-testid': 'ablation' } },
    h(
      'p',
      { class: 'analysis-summary', attrs: { 'data-testid': 'ablation-summary' } },
      `Replaced ${view.replaced.join(', ') || 'nothing'}; rerun from layer ${view.firstLayer}. ${loss}`,
    ),
    h('p', {
      class: 'hint',
      text: `logits: max |Δ| ${formatValue(view.maxAbsDelta)}, mean |Δ| ${formatValue(view.meanAbsDelta)}. Underline: how the top token’s probability moved; click a token for its top-k.`,
    }),
    strip,
    p.selected !== undefined ? changes(view, p.labels, p.selected, p.tokens) : null,
  );
}
