/**
 * Above the step view while the stepper walks a patched run (a patching cell opened from the Analyses
 * tab): which activation of the clean run was put into the corrupted one, and a button back to the
 * input's own pass at the same hook.
 */
import type { PatchedRunLabel } from '../../protocol/webview';
import { h } from '../dom';

/** The patch in words: layer and position, or layer and head, and what was patched. */
export function patchedTitle(p: PatchedRunLabel): string {
  const what =
    p.what === 'resid' ? 'residual stream' : p.what === 'mlp' ? 'MLP output' : 'attention head output';
  const at = p.head !== undefined ? `head ${p.head}` : `position ${p.position}`;
  return `Patched run — layer ${p.layer}, ${at} (${what}) from the clean run`;
}

export function patchedBanner(p: PatchedRunLabel, onBack: () => void): HTMLElement {
  return h(
    'div',
    {
      class: 'patched-banner',
      attrs: { role: 'status', 'data-testid': 'patched-banner', 'data-hook': p.hook },
    },
    h(
      'div',
      { class: 'patched-text' },
      h('strong', { text: patchedTitle(p) }),
      h('div', { class: 'hint', text: `Every step here is ${p.description}.` }),
    ),
    h('button', {
      class: 'tk-button tk-button-secondary',
      text: 'Back to the normal run',
      attrs: { type: 'button', 'data-testid': 'unpatch' },
      on: { click: onBack },
    }),
  );
}
