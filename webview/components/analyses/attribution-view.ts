/**
 * Direct logit attribution as bars: each head, MLP and the embeddings' contribution to the target's
 * logit (or the logit difference against a second token), through the final norm with its scale
 * frozen at the actual run. The bars plus the bias terms add up to the total, which the view checks.
 */
import type { AnalysisReply } from '../../../protocol/analyses';
import { cssRgb, divergingScale, type ThemeColors } from '../../color';
import { h } from '../../dom';
import { formatValue } from '../../format';
import { strongest, tokenLabel, type Labels } from './labels';

type AttributionView = Extract<AnalysisReply['view'], { analysis: 'attribution' }>;

/** Bars shown (the strongest by |value|); the rest are summed in one line. */
export const ATTRIBUTION_BARS = 24;

/** The short name of a component: "L2 H1", "L3 MLP", "embed". */
export function componentLabel(c: AttributionView['components'][number]): string {
  const cross = c.attention === 'cross' ? ' cross' : '';
  if (c.kind === 'embed') return 'embed';
  if (c.kind === 'head') return `L${c.layer} H${c.head}${cross}`;
  if (c.kind === 'attn') return `L${c.layer} attn${cross}`;
  return `L${c.layer} MLP`;
}

/** Sum of the components and biases, and whether it reproduces the total (to fp32 rounding). */
export function attributionSum(view: AttributionView): { sum: number; matches: boolean } {
  const sum = view.components.reduce((a, c) => a + c.value, 0) + view.biases.reduce((a, b) => a + b.value, 0);
  return { sum, matches: Math.abs(sum - view.total) <= 1e-4 * Math.max(1, Math.abs(view.total)) };
}

export function attributionView(view: AttributionView, labels: Labels, theme: ThemeColors): HTMLElement {
  const shown = strongest(view.components, ATTRIBUTION_BARS);
  const rest = view.components.filter((c) => !shown.includes(c)).reduce((a, c) => a + c.value, 0);
  const extent = Math.max(1e-9, ...shown.map((c) => Math.abs(c.value)));
  const scale = divergingScale(theme, extent);
  const metric =
    view.versus !== undefined
      ? `logit(${tokenLabel(labels, view.target)}) − logit(${tokenLabel(labels, view.versus)})`
      : `logit(${tokenLabel(labels, view.target)})`;
  const { sum, matches } = attributionSum(view);
  const rows = shown.map((c) => {
    const bar = h('span', { class: `attr-bar ${c.value < 0 ? 'negative' : 'positive'}` });
    bar.style.width = `${(Math.abs(c.value) / extent) * 50}%`;
    bar.style.backgroundColor = cssRgb(scale.rgb(c.value));
    return h(
      'div',
      {
        class: 'attr-row',
        attrs: {
          role: 'listitem',
          'data-testid': 'attribution-bar',
          'data-name': c.name,
          'data-value': c.value,
          title: c.name,
        },
      },
      h('span', { class: 'attr-name', text: componentLabel(c) }),
      h('span', { class: 'attr-track' }, h('span', { class: 'attr-axis' }), bar),
      h('span', { class: 'attr-value', text: formatValue(c.value) }),
    );
  });
  const biases = view.biases.reduce((a, b) => a + b.value, 0);
  return h(
    'div',
    { class: 'attribution-view', attrs: { 'data-testid': 'attribution' } },
    h('p', {
      class: 'hint',
      text: `${metric} at position ${view.position}: ${formatValue(view.total)}. Final-norm scale frozen at the run (${formatValue(view.normScale)}).`,
    }),
    h(
      'div',
      { class: 'attr-list', attrs: { role: 'list', 'aria-label': `Contributions to ${metric}` } },
      ...rows,
    ),
    h(
      'p',
      { class: 'attr-sum', attrs: { 'data-testid': 'attribution-sum', 'data-matches': String(matches) } },
      `${view.components.length - shown.length > 0 ? `${view.components.length - shown.length} smaller components ${formatValue(rest)} · ` : ''}biases ${formatValue(biases)} · sum ${formatValue(sum)} ${matches ? '= ' : '≠ '}${formatValue(view.total)}`,
    ),
  );
}
