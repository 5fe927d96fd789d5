/**
 * The panel's UI kit, in one place so it can be replaced in one place.
 *
 * `@vscode/webview-ui-toolkit` is a dependency, but its components are not registered: registering
 * one makes FAST inject <style> elements, which our CSP (`style-src ${webview.cspSource}`, no
 * 'unsafe-inline') refuses (microsoft/vscode-webview-ui-toolkit#545), and the kit is deprecated
 * upstream and would add ~170 kB to the bundle. Instead the kit here is plain, accessible HTML that
 * matches the toolkit's look through the same `--vscode-button-*`, `--vscode-badge-*` and
 * `--vscode-panelTitle-*` variables (styles in webview.css). To switch to a component library,
 * change these functions; callers only see elements.
 */
import { h } from './dom';

/** Icons drawn as SVG (fonts may lack glyphs such as ⏭), filled with the button's text color. */
const ICONS = {
  back: ['M11 3v10L4 8z'],
  forward: ['M5 3v10l7-5z'],
  end: ['M3 3v10l7-5z', 'M11 3h2v10h-2z'],
  reset: ['M8 2.5a5.5 5.5 0 1 1-5.2 3.7l1.4.5A4 4 0 1 0 8 4v2L4.8 3.3 8 .5z'],
} as const;

export type IconName = keyof typeof ICONS;

export function icon(name: IconName): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('fill', 'currentColor');
  svg.setAttribute('class', 'tk-icon');
  for (const d of ICONS[name]) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

export interface ButtonOptions {
  /** Visible text; with an icon, the glyph kept as the button's text for tests and copy-paste. */
  label: string;
  icon?: IconName;
  /** Accessible name when the label is a glyph. */
  ariaLabel?: string;
  /** Hover text (e.g. the name and the shortcut). */
  title?: string;
  variant?: 'primary' | 'secondary' | 'icon';
  disabled?: boolean;
  keyshortcuts?: string;
  focusKey?: string;
  testId?: string;
  /** Extra data attributes, e.g. { 'data-command': 'stepForward' }. */
  data?: Record<string, string>;
  onClick: () => void;
}

export function button(o: ButtonOptions): HTMLButtonElement {
  const el = h('button', {
    class: `tk-button tk-button-${o.variant ?? 'secondary'}`,
    text: o.icon ? undefined : o.label,
    attrs: {
      ...o.data,
      type: 'button',
      'aria-label': o.ariaLabel,
      title: o.title,
      disabled: o.disabled,
      'aria-keyshortcuts': o.keyshortcuts,
      'data-focus-key': o.focusKey,
      'data-testid': o.testId,
    },
    on: { click: () => o.onClick() },
  });
  if (o.icon) el.append(icon(o.icon), h('span', { class: 'tk-glyph', text: o.label }));
  return el;
}

export function badge(
  text: string,
  variant: 'default' | 'warning' = 'default',
  attrs: Record<string, string> = {},
): HTMLElement {
  return h('span', { class: `tk-badge tk-badge-${variant}`, text, attrs });
}

export interface TabSpec<T extends string> {
  id: T;
  label: string;
}

/**
 * A tab list (WAI-ARIA tabs: ←/→ move between tabs, Home/End to the ends) whose panels the caller
 * owns; `tabpanelId(id)` names the panel element for aria-controls.
 */
export function tabList<T extends string>(
  tabs: readonly TabSpec<T>[],
  active: T,
  onSelect: (id: T) => void,
  tabpanelId: (id: T) => string,
): HTMLElement {
  const buttons = tabs.map((t) =>
    h('button', {
      class: 'tk-tab',
      text: t.label,
      attrs: {
        type: 'button',
        role: 'tab',
        id: `tab-${t.id}`,
        'aria-selected': t.id === active ? 'true' : 'false',
        'aria-controls': tabpanelId(t.id),
        tabindex: t.id === active ? 0 : -1,
        'data-focus-key': `tab-${t.id}`,
      },
      on: { click: () => onSelect(t.id) },
    }),
  );
  const list = h(
    'div',
    { class: 'tk-tablist', attrs: { role: 'tablist', 'aria-label': 'Inspector views' } },
    ...buttons,
  );
  list.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    const next =
      e.key === 'ArrowRight'
        ? (i + 1) % tabs.length
        : e.key === 'ArrowLeft'
          ? (i - 1 + tabs.length) % tabs.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? tabs.length - 1
              : -1;
    if (next < 0) return;
    e.preventDefault();
    e.stopPropagation();
    onSelect(tabs[next].id);
    // The list may have been rebuilt by the selection: focus the new tab wherever it now is.
    document.getElementById(`tab-${tabs[next].id}`)?.focus();
  });
  return list;
}

/** A thin progress bar like VS Code's: determinate when `fraction` is given, else indeterminate. */
export function progressBar(fraction?: number): HTMLElement {
  const bar = h('div', { class: 'tk-progress-bar' });
  const track = h(
    'div',
    {
      class: fraction === undefined ? 'tk-progress tk-progress-indeterminate' : 'tk-progress',
      attrs: {
        role: 'progressbar',
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': fraction === undefined ? undefined : Math.round(fraction * 100),
      },
    },
    bar,
  );
  if (fraction !== undefined) bar.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return track;
}
