/**
 * The model header: which config, family and architecture, where the weights came from (with a
 * warning badge when they are seeded random weights), the parameter count, the input tokens and how
 * many tensors of the weights file went unused.
 */
import type { ModelInfo } from '../../protocol/webview';
import { h } from '../dom';
import { thousands, visibleToken } from '../format';
import { badge } from '../toolkit';

const MAX_TOKENS = 32;

/** "…/tutorial/config.json" → "tutorial/config.json". */
export function shortPath(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.slice(-2).join('/') || path;
}

function chipsOf(
  tokens: readonly string[],
  ids: readonly number[] | undefined,
  from: number,
  label: string,
): HTMLElement {
  return h(
    'ol',
    { class: 'tokens', attrs: { 'aria-label': label, start: from + 1 } },
    ...tokens.map((t, j) => {
      const i = from + j;
      return h('li', {
        class: 'token',
        text: visibleToken(t),
        attrs: { title: `“${t}” · position ${i}${ids?.[i] !== undefined ? ` · id ${ids[i]}` : ''}` },
      });
    }),
  );
}

/** The first MAX_TOKENS chips, the rest behind a "+N more" disclosure (every token stays reachable). */
function tokenChips(
  tokens: readonly string[],
  ids: readonly number[] | undefined,
  label: string,
): HTMLElement {
  const list = chipsOf(tokens.slice(0, MAX_TOKENS), ids, 0, label);
  if (tokens.length <= MAX_TOKENS) return list;
  const rest = h(
    'details',
    { class: 'tokens-rest', attrs: { 'data-testid': 'tokens-more' } },
    h('summary', { class: 'token-more', text: `+${thousands(tokens.length - MAX_TOKENS)} more` }),
    chipsOf(tokens.slice(MAX_TOKENS), ids, MAX_TOKENS, `${label} from position ${MAX_TOKENS}`),
  );
  return h('div', { class: 'tokens-all' }, list, rest);
}

const countOf = (tokens: readonly string[]) =>
  `${thousands(tokens.length)} ${tokens.length === 1 ? 'token' : 'tokens'}`;

export function modelHeader(model: ModelInfo): HTMLElement {
  const title = h(
    'div',
    { class: 'model-title' },
    h('h1', { class: 'model-name', text: shortPath(model.configPath), attrs: { title: model.configPath } }),
    h('span', { class: 'model-kind', text: `${model.family} · ${model.architecture}` }),
  );
  if (model.seeded) {
    title.append(
      badge('⚠ seeded random weights', 'warning', {
        'data-testid': 'seeded-badge',
        title:
          'No weights file was found, so the model runs on seeded random weights: shapes and counts are real, values are not.',
      }),
    );
  }
  const fact = (name: string, ...value: (Node | string)[]) =>
    h('div', { class: 'fact' }, h('dt', { text: name }), h('dd', {}, ...value));
  const unused = model.unusedWeights.length;
  const facts = h(
    'dl',
    { class: 'model-facts' },
    fact('weights', h('span', { text: model.weights, attrs: { title: model.weights } })),
    fact('parameters', h('span', { class: 'num', text: thousands(model.parameterCount) })),
    fact(
      'unused weights',
      h('span', {
        class: unused > 0 ? 'num warning-text' : 'num',
        text: thousands(unused),
        attrs: {
          title:
            unused > 0
              ? model.unusedWeights.slice(0, 30).join('\n') +
                (unused > 30 ? `\n… and ${unused - 30} more` : '')
              : 'Every tensor in the weights file was used.',
        },
      }),
    ),
  );
  const tokens = h(
    'div',
    { class: 'model-tokens' },
    h('span', {
      class: 'fact-name',
      text: `${model.decoderTokens ? 'encoder input' : 'input'} · ${countOf(model.tokens)}`,
      attrs: { 'data-testid': 'token-count' },
    }),
    tokenChips(model.tokens, model.ids, 'Input tokens'),
  );
  if (model.decoderTokens) {
    tokens.append(
      h('span', { class: 'fact-name', text: `decoder input · ${countOf(model.decoderTokens)}` }),
      tokenChips(model.decoderTokens, model.decoderIds, 'Decoder input tokens'),
    );
  }
  return h('header', { class: 'model-header' }, title, facts, tokens);
}
