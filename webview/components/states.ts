/**
 * Whole-panel states: nothing open yet, a failure (its message and where, never a blank panel), and
 * work under way. When a model is loaded, errors and progress show as a banner above the views.
 */
import { h } from '../dom';
import type { ViewState } from '../state';
import { progressBar, progressRing } from '../toolkit';

export const OPEN_COMMAND = 'Transformer Inspector: Open Inspector';

export function emptyState(message: string): HTMLElement {
  return h(
    'div',
    { class: 'placeholder', attrs: { 'data-testid': 'empty-state' } },
    h('div', { class: 'placeholder-icon', text: '◇', attrs: { 'aria-hidden': 'true' } }),
    h('p', { class: 'placeholder-message', text: message }),
    h(
      'p',
      { class: 'hint' },
      'Open a model config (config.json) and run ',
      h('strong', { text: OPEN_COMMAND }),
      ' from the Command Palette (Ctrl+Shift+P / ⇧⌘P).',
    ),
  );
}

/** The error, as a full panel (nothing loaded) or as a banner over the loaded views. */
export function errorState(error: NonNullable<ViewState['error']>, banner: boolean): HTMLElement {
  const message = h('p', {
    class: 'error-message',
    text: error.message,
    attrs: { 'data-testid': 'error-message' },
  });
  const where = error.where
    ? h('p', { class: 'error-where' }, 'in ', h('code', { text: error.where }))
    : null;
  if (banner) {
    return h(
      'div',
      { class: 'banner banner-error', attrs: { role: 'alert' } },
      h('span', { class: 'error-icon', text: '⊘', attrs: { 'aria-hidden': 'true' } }),
      h('div', { class: 'error-body' }, message, where),
    );
  }
  return h(
    'div',
    { class: 'placeholder placeholder-error', attrs: { role: 'alert' } },
    h('div', { class: 'placeholder-icon error-icon', text: '⊘', attrs: { 'aria-hidden': 'true' } }),
    h('p', { class: 'placeholder-title', text: 'The inspector could not open this model' }),
    message,
    where,
    h('p', { class: 'hint' }, 'Fix the file, then run ', h('strong', { text: OPEN_COMMAND }), ' again.'),
  );
}

export function busyState(busy: NonNullable<ViewState['busy']>, banner: boolean): HTMLElement {
  const fraction = busy.progress === undefined ? undefined : Math.max(0, Math.min(1, busy.progress));
  const text = fraction === undefined ? busy.message : `${busy.message} ${Math.round(fraction * 100)}%`;
  // The kit's ring for work of unknown length; a known fraction is the plain bar (the kit's ring
  // has no determinate mode).
  if (banner)
    return h(
      'div',
      { class: 'busy-status', attrs: { role: 'status', 'aria-live': 'polite' } },
      fraction === undefined ? progressRing() : null,
      h('span', { text }),
    );
  return h(
    'div',
    { class: 'placeholder', attrs: { 'aria-busy': 'true' } },
    fraction === undefined ? progressRing() : null,
    h('p', { class: 'placeholder-message', text, attrs: { role: 'status', 'aria-live': 'polite' } }),
    h('div', { class: 'placeholder-progress' }, progressBar(fraction)),
  );
}
