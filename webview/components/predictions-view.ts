/**
 * The predictions view of the logits step: for the last position (what the model would say next)
 * the top-k tokens as bars of probability with their logits; then, for every position, its input
 * token, the top few predictions, and the rank, probability and loss of the token that actually
 * comes next, with the mean loss over the input. Every number comes from the engine.
 */
import type { Predictions, Prediction } from '../../protocol/webview';
import { h } from '../dom';
import { formatValue, thousands, visibleToken } from '../format';

/** Predictions shown per position in the table (the big list shows all k). */
const TABLE_TOP = 3;

/** "41.2%", "<0.1%" for tiny ones. */
export function formatProb(p: number): string {
  if (p >= 0.001) return `${(p * 100).toFixed(1)}%`;
  if (p > 0) return '<0.1%';
  return '0%';
}

/** The hover text of one candidate. */
function describe(p: Prediction): string {
  return `“${p.token}” · id ${p.id} · p ${p.prob.toPrecision(4)} · logit ${formatValue(p.logit)}`;
}

function chip(p: Prediction, actual: boolean): HTMLElement {
  return h('span', {
    class: actual ? 'token prediction-chip is-actual' : 'token prediction-chip',
    text: visibleToken(p.token),
    attrs: { title: describe(p) },
  });
}

/** The last position's top-k as horizontal probability bars. */
function nextList(predictions: Predictions, after: string): HTMLElement {
  const last = predictions.positions[predictions.positions.length - 1];
  const top = last?.top ?? [];
  const best = Math.max(1e-30, top[0]?.prob ?? 1);
  const rows = top.map((p, i) => {
    const bar = h('span', { class: 'prediction-bar' });
    bar.style.width = `${(p.prob / best) * 100}%`;
    return h(
      'li',
      {
        class: 'prediction-row',
        attrs: { 'data-testid': 'prediction', 'data-token': p.token, title: describe(p) },
      },
      h('span', { class: 'prediction-rank', text: String(i + 1) }),
      h('span', { class: 'token prediction-token', text: visibleToken(p.token) }),
      h('span', { class: 'prediction-track' }, bar),
      h('span', { class: 'num prediction-prob', text: formatProb(p.prob) }),
      h('span', { class: 'num prediction-logit', text: formatValue(p.logit) }),
    );
  });
  return h(
    'div',
    { class: 'prediction-next' },
    h('h3', { class: 'section-title', text: `Next token after “${visibleToken(after)}”` }),
    h(
      'div',
      { class: 'prediction-row prediction-head', attrs: { 'aria-hidden': 'true' } },
      h('span', { class: 'prediction-rank', text: '#' }),
      h('span', { class: 'prediction-token', text: 'token' }),
      h('span', { class: 'prediction-track', text: 'probability' }),
      h('span', { class: 'prediction-prob', text: 'p' }),
      h('span', { class: 'prediction-logit', text: 'logit' }),
    ),
    h(
      'ol',
      {
        class: 'prediction-list',
        attrs: { 'aria-label': `Top ${top.length} next tokens`, 'data-testid': 'next-predictions' },
      },
      ...rows,
    ),
  );
}

/** One row per position: input token, top predictions, the actual next token's rank, p and loss. */
function positionTable(predictions: Predictions, tokens: readonly string[]): HTMLElement {
  const head = h(
    'tr',
    {},
    h('th', { text: 'pos', attrs: { scope: 'col' } }),
    h('th', { text: 'input', attrs: { scope: 'col' } }),
    h('th', { text: `top ${Math.min(TABLE_TOP, predictions.k)} predictions`, attrs: { scope: 'col' } }),
    h('th', { text: 'actual next', attrs: { scope: 'col' } }),
    h('th', { text: 'rank', attrs: { scope: 'col' } }),
    h('th', { text: 'p', attrs: { scope: 'col' } }),
    h('th', { text: 'loss', attrs: { scope: 'col', title: '−ln p(actual next token), in nats' } }),
  );
  const rows = predictions.positions.map((pos, t) => {
    const next = pos.next;
    return h(
      'tr',
      { attrs: { 'data-position': t } },
      h('td', { class: 'num', text: String(t) }),
      h(
        'td',
        {},
        h('span', {
          class: 'token',
          text: visibleToken(tokens[t] ?? `#${t}`),
          attrs: { title: `“${tokens[t] ?? ''}” · position ${t}` },
        }),
      ),
      h(
        'td',
        { class: 'prediction-chips' },
        ...pos.top.slice(0, TABLE_TOP).map((p) => chip(p, next !== undefined && p.id === next.id)),
      ),
      h('td', {}, next ? chip(next, next.rank === 1) : h('span', { class: 'hint', text: '—' })),
      h('td', { class: 'num', text: next ? thousands(next.rank) : '' }),
      h('td', { class: 'num', text: next ? formatProb(next.prob) : '' }),
      h('td', { class: 'num', text: next ? next.loss.toFixed(3) : '' }),
    );
  });
  return h(
    'div',
    { class: 'prediction-table-wrap' },
    h(
      'table',
      { class: 'prediction-table', attrs: { 'data-testid': 'prediction-table' } },
      h('thead', {}, head),
      h('tbody', {}, ...rows),
    ),
  );
}

export function predictionsView(predictions: Predictions, tokens: readonly string[]): HTMLElement {
  const last = tokens[tokens.length - 1] ?? '';
  const summary: string[] = [`top ${predictions.k} of ${thousands(predictions.vocab)} tokens`];
  if (predictions.meanLoss !== undefined && predictions.scored) {
    summary.push(
      `mean loss ${predictions.meanLoss.toFixed(3)} nats over ${predictions.scored} next ${predictions.scored === 1 ? 'token' : 'tokens'} (perplexity ${formatValue(Math.exp(predictions.meanLoss))})`,
    );
  }
  return h(
    'section',
    { class: 'predictions-view', attrs: { 'aria-label': 'Predictions', 'data-testid': 'predictions' } },
    h('p', { class: 'view-caption', text: summary.join(' · '), attrs: { 'data-testid': 'mean-loss' } }),
    h(
      'div',
      { class: 'prediction-columns' },
      nextList(predictions, last),
      positionTable(predictions, tokens),
    ),
  );
}
