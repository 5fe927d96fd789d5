/**
 * After Generate Next Token: the tokens appended to the input, one button each (the one whose steps are
 * shown is pressed; another re-traces that position, its attention row over the keys it saw), and, on an
 * attention step, what its one row is: the generated token's query over every key up to it.
 */
import type { FromWebview, GenerationInfo, StepInfo } from '../../protocol/webview';
import { h } from '../dom';
import { visibleToken } from '../format';

/** The caption of an attention step of a generated position: its query, its keys. */
export function generatedRowCaption(generation: GenerationInfo, step: Pick<StepInfo, 'view'>): string | undefined {
  if (step.view.kind !== 'attention') return undefined;
  const token = generation.tokens.find((t) => t.position === generation.shown);
  if (!token) return undefined;
  const keys = step.view.pooled?.keys ?? step.view.keys;
  return `Attention of the generated token “${visibleToken(token.token)}” (position ${token.position}) over all ${keys} keys: one query row, the KV cache of positions 0 … ${token.position - 1} and itself.`;
}

export function generatedTokens(
  generation: GenerationInfo | undefined,
  step: StepInfo | undefined,
  post: (m: FromWebview) => void,
): HTMLElement[] {
  if (!generation || generation.tokens.length === 0) return [];
  const chips = generation.tokens.map((t) => {
    const shown = t.position === generation.shown;
    const el = h('button', {
      class: `generated-token${shown ? ' generated-token-shown' : ''}`,
      text: visibleToken(t.token),
      attrs: {
        type: 'button',
        'aria-pressed': shown ? 'true' : 'false',
        title: `position ${t.position}, id ${t.id}, p = ${(t.prob * 100).toFixed(1)}% — ${shown ? 'its steps are shown' : 'show its steps'}`,
        'data-testid': `generated-${t.position}`,
        'data-position': String(t.position),
      },
    });
    el.addEventListener('click', () => {
      if (!shown) post({ type: 'showGenerated', position: t.position });
    });
    return el;
  });
  const caption = step ? generatedRowCaption(generation, step) : undefined;
  const bar: HTMLElement = h(
    'div',
    { class: 'generated', attrs: { role: 'group', 'aria-label': 'Generated tokens', 'data-testid': 'generated-tokens' } },
    h('span', { class: 'generated-label', text: `Generated after ${generation.promptLength} input tokens:` }),
    ...chips,
    h('span', { class: 'generated-hint hint', text: 'the steps are of one position (KV cache)' }),
  );
  if (!caption) return [bar];
  return [bar, h('p', { class: 'generated-caption', text: caption, attrs: { 'data-testid': 'generated-caption' } })];
}
