/**
 * The stepper: buttons to step back and forward, run to the end and reset (also ←, →, End, Home),
 * Set Input…, a jump list of the steps, the position "k / n", and the current step's hook name,
 * breadcrumb, shape with its dims, and what it computes.
 */
import type { FromWebview, WebviewCommand } from '../../protocol/webview';
import { h } from '../dom';
import { formatDims, formatPosition, formatShape } from '../format';
import { SHORTCUTS } from '../keyboard';
import type { ViewState } from '../state';
import { button, dropdown, type IconName } from '../toolkit';

interface Control {
  command: WebviewCommand;
  icon: IconName;
  label: string;
  name: string;
  enabled: boolean;
}

/** Which controls are usable at a position. */
export function controlsFor(
  state: Pick<ViewState, 'model' | 'position'>,
): Record<'back' | 'forward' | 'end' | 'reset', boolean> {
  const { index, computed, done } = state.position;
  const loaded = state.model !== undefined;
  const atEnd = done && index >= computed - 1;
  return {
    back: loaded && index >= 0,
    forward: loaded && !atEnd,
    end: loaded && !atEnd,
    reset: loaded && index >= 0,
  };
}

export function positionText(position: ViewState['position']): string {
  if (position.index < 0) {
    if (position.computed === 0) return 'Before the first step';
    return `Before the first step · ${position.computed}${position.done ? '' : ' computed so far'}`;
  }
  return formatPosition(position.index, position.computed, position.done);
}

export function stepper(state: ViewState, post: (m: FromWebview) => void): HTMLElement[] {
  const can = controlsFor(state);
  const controls: Control[] = [
    { command: 'stepBack', icon: 'back', label: '◀', name: 'Step back', enabled: can.back },
    { command: 'stepForward', icon: 'forward', label: '▶', name: 'Step forward', enabled: can.forward },
    { command: 'runToEnd', icon: 'end', label: '⏭', name: 'Run to end', enabled: can.end },
    {
      command: 'reset',
      icon: 'reset',
      label: '⟲',
      name: 'Reset to before the first step',
      enabled: can.reset,
    },
  ];
  const command = (c: WebviewCommand) => post({ type: 'command', command: c });
  const buttons = controls.map((c) => {
    const shortcut = SHORTCUTS[c.command];
    return button({
      label: c.label,
      icon: c.icon,
      ariaLabel: c.name,
      data: { 'data-command': c.command },
      title: shortcut ? `${c.name} (${shortcut.label})` : c.name,
      keyshortcuts: shortcut?.aria,
      variant: 'icon',
      disabled: !c.enabled,
      focusKey: `cmd-${c.command}`,
      onClick: () => command(c.command),
    });
  });

  const position = h('span', {
    class: 'step-position',
    text: positionText(state.position),
    attrs: { 'data-testid': 'step-position' },
  });

  const toolbar = h(
    'div',
    { class: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Forward pass' } },
    h('div', { class: 'toolbar-group' }, ...buttons),
    position,
    h('div', { class: 'toolbar-spacer' }),
    jumpList(state, post),
    state.model?.architecture === 'decoder'
      ? button({
          label: 'Generate ▸',
          title: `Generate the next token (${SHORTCUTS.generateNextToken?.label ?? 'G'}): append it with the KV cache and step through its position`,
          keyshortcuts: SHORTCUTS.generateNextToken?.aria,
          disabled: !state.model,
          focusKey: 'cmd-generateNextToken',
          data: { 'data-command': 'generateNextToken' },
          onClick: () => command('generateNextToken'),
        })
      : null,
    button({
      label: 'Export…',
      title: 'Export this tensor',
      disabled: !state.step,
      focusKey: 'cmd-export',
      data: { 'data-command': 'exportTensor' },
      onClick: () => command('exportTensor'),
    }),
    button({
      label: 'Set Input…',
      variant: 'primary',
      title: 'Choose the input tokens',
      focusKey: 'cmd-setInput',
      data: { 'data-command': 'setInput' },
      onClick: () => command('setInput'),
    }),
  );

  return [toolbar, stepHeader(state)];
}

/** A dropdown listing the steps by hook name; choosing one asks the host to go there. */
function jumpList(state: ViewState, post: (m: FromWebview) => void): HTMLElement | null {
  if (state.steps.length === 0) return null;
  return dropdown({
    options: [
      { value: '', label: 'Go to step…' },
      ...state.steps.map((s, i) => ({
        value: s.name,
        label: `${i + 1}. ${s.name}`,
        title: formatShape(s.shape),
      })),
    ],
    selected: state.step?.name ?? '',
    ariaLabel: 'Go to step',
    title: 'Go to step',
    focusKey: 'jump',
    class: 'jump-list',
    onChange: (name) => name && post({ type: 'goToHook', name }),
  });
}

function stepHeader(state: ViewState): HTMLElement {
  const step = state.step;
  if (!step) {
    const next = state.steps[0]?.name;
    return h(
      'div',
      { class: 'step-header' },
      h('h2', { class: 'step-name step-name-none', text: 'Before the first step' }),
      h('p', {
        class: 'step-explanation',
        text: next ? `Press ▶ (or →) to compute ${next}.` : 'Press ▶ (or →) to compute the first step.',
      }),
    );
  }
  const crumbs = h(
    'ol',
    { class: 'breadcrumb' },
    ...step.breadcrumb.map((part, i) =>
      h('li', {
        text: part,
        attrs: { 'aria-current': i === step.breadcrumb.length - 1 ? 'step' : undefined },
      }),
    ),
  );
  return h(
    'div',
    { class: 'step-header' },
    h('nav', { attrs: { 'aria-label': 'Where in the model' } }, crumbs),
    h('h2', {
      class: 'step-name',
      text: step.name,
      attrs: { 'data-testid': 'step-name', title: 'TransformerLens hook name' },
    }),
    h(
      'p',
      { class: 'step-shape' },
      h('code', { text: formatShape(step.shape) }),
      h('span', { class: 'step-dims', text: formatDims(step.dims, step.shape) }),
    ),
    step.explanation ? h('p', { class: 'step-explanation', text: step.explanation }) : null,
  );
}
