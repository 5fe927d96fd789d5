/**
 * The panel's UI kit, in one place so it can be replaced in one place: the standard controls are
 * `@vscode/webview-ui-toolkit` components (FAST web components themed by the `--vscode-*` variables);
 * callers only see elements. Its other half, toolkit-elements.ts, defines the kit's custom elements
 * (imported by main.ts alone: the unit tests import the components in Node, which cannot evaluate
 * the kit; a static import also lets the bundle keep only the components used).
 *
 * The kit injects <style> elements; the panel's CSP allows styles carrying the load's nonce, which the
 * page announces in <meta property="csp-nonce"> and FAST copies onto them (src/panel/html.ts), so
 * there is still no 'unsafe-inline'. Not from the kit: the thin top progress bar and known progress
 * (the kit's ring is a spinner only: it drops a `value`, as webview/dev/toolkit-csp.mjs shows), badges with words (the kit's badge is a round count), the
 * tree twisties of the parameter grid and the head tiles.
 */
import { h } from './dom';

/** Make one of the kit's elements (a plain element until toolkit-elements.ts has defined it). */
function kit(
  tag: string,
  props: {
    class?: string;
    text?: string;
    attrs?: Record<string, string | number | boolean | undefined>;
  } = {},
): HTMLElement {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  return el;
}

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

/** A `<vscode-button>`; its inner native button carries the accessible name and the disabled state. */
export function button(o: ButtonOptions): HTMLElement {
  const el = kit('vscode-button', {
    class: `tk-button tk-button-${o.variant ?? 'secondary'}`,
    text: o.icon ? undefined : o.label,
    attrs: {
      ...o.data,
      appearance: o.variant ?? 'secondary',
      'aria-label': o.ariaLabel,
      title: o.title,
      disabled: o.disabled,
      'aria-keyshortcuts': o.keyshortcuts,
      'data-focus-key': o.focusKey,
      'data-testid': o.testId,
    },
  });
  el.addEventListener('click', () => {
    if (!el.hasAttribute('disabled')) o.onClick();
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

export interface DropdownOption {
  value: string;
  label: string;
  title?: string;
}

/** A `<vscode-dropdown>`; `onChange` gets the chosen option's value. */
export function dropdown(o: {
  options: readonly DropdownOption[];
  selected: string;
  ariaLabel: string;
  title?: string;
  focusKey?: string;
  class?: string;
  onChange: (value: string) => void;
}): HTMLElement {
  const el = kit('vscode-dropdown', {
    class: `tk-select${o.class ? ` ${o.class}` : ''}`,
    attrs: { 'aria-label': o.ariaLabel, title: o.title, 'data-focus-key': o.focusKey, position: 'below' },
  });
  for (const opt of o.options) {
    el.append(
      kit('vscode-option', {
        text: opt.label,
        attrs: { value: opt.value, title: opt.title, selected: opt.value === o.selected },
      }),
    );
  }
  // FAST picks the first option whose value equals the dropdown's: say which, before it connects.
  (el as HTMLElement & { value: string }).value = o.selected;
  el.addEventListener('change', (e) => {
    if (e.target === el) o.onChange((el as HTMLElement & { value: string }).value);
  });
  return el;
}

export interface TabSpec<T extends string> {
  id: T;
  label: string;
}

export interface Tabs<T extends string> {
  /** The `<vscode-panels>`: the tab strip, then the panels. */
  element: HTMLElement;
  /** The panel of a tab (id `panel-<id>`, labelled by its tab `tab-<id>`). */
  panel(id: T): HTMLElement;
  /** Show a tab (when the state, not a click, chose it). */
  select(id: T): void;
}

/**
 * Tabs with their panels (`<vscode-panels>`: WAI-ARIA tabs, ←/→ move between tabs, Home/End to the
 * ends, the focus following). A click or a key calls `onSelect`; `select` follows the state.
 */
export function tabs<T extends string>(
  specs: readonly TabSpec<T>[],
  active: T,
  onSelect: (id: T) => void,
): Tabs<T> {
  const element = kit('vscode-panels', {
    class: 'tk-tabs',
    attrs: { activeid: `tab-${active}`, 'aria-label': 'Inspector views' },
  }) as HTMLElement & { activeid: string };
  const panels = new Map<T, HTMLElement>();
  for (const t of specs) {
    element.append(
      kit('vscode-panel-tab', {
        class: 'tk-tab',
        text: t.label,
        attrs: { id: `tab-${t.id}`, 'data-focus-key': `tab-${t.id}` },
      }),
    );
  }
  for (const t of specs) {
    const view = kit('vscode-panel-view', { class: 'tab-panel', attrs: { id: `panel-${t.id}` } });
    panels.set(t.id, view);
    element.append(view);
  }
  const idOf = (tabId: string) => specs.find((t) => `tab-${t.id}` === tabId)?.id;
  let current = active;
  element.addEventListener('change', (e) => {
    if (e.target !== element) return; // a control inside a panel
    const id = idOf(element.activeid);
    if (id === undefined || id === current) return;
    current = id;
    onSelect(id);
  });
  return {
    element,
    panel: (id) => panels.get(id)!,
    select(id) {
      if (id === current) return;
      current = id;
      element.activeid = `tab-${id}`;
      element.setAttribute('activeid', `tab-${id}`);
    },
  };
}

/** A spinning ring (`<vscode-progress-ring>`, which names itself "Loading") for work of unknown length. */
export function progressRing(): HTMLElement {
  return kit('vscode-progress-ring', { class: 'tk-ring' });
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

export interface GridColumn {
  title: string;
  /** A CSS grid track, e.g. `minmax(12em, 3fr)`. */
  width: string;
  class?: string;
}

/** A `<vscode-data-grid>` with a header row of `columns`; rows come from `gridRow`. */
export function dataGrid(
  columns: readonly GridColumn[],
  ariaLabel: string,
  rows: HTMLElement[],
  className = '',
): HTMLElement {
  const grid = kit('vscode-data-grid', {
    class: `tk-grid ${className}`.trim(),
    attrs: {
      'aria-label': ariaLabel,
      'generate-header': 'none',
      'grid-template-columns': columns.map((c) => c.width).join(' '),
      // Arrows move between cells here: the stepper's keys are left alone (keyboard.ts).
      'data-composite': true,
    },
  });
  const header = kit('vscode-data-grid-row', { attrs: { 'row-type': 'header' } });
  columns.forEach((c, i) =>
    header.append(
      kit('vscode-data-grid-cell', {
        class: c.class,
        text: c.title,
        attrs: { 'cell-type': 'columnheader', 'grid-column': i + 1 },
      }),
    ),
  );
  grid.append(header, ...rows);
  return grid;
}

/** One row of a data grid: its cells in column order (text, or an element with its own content). */
export function gridRow(
  cells: readonly (HTMLElement | { text: string; class?: string; title?: string })[],
  attrs: Record<string, string | number> = {},
  className = '',
): HTMLElement {
  const row = kit('vscode-data-grid-row', { class: className, attrs });
  cells.forEach((c, i) => {
    const cell =
      c instanceof HTMLElement
        ? c
        : kit('vscode-data-grid-cell', { class: c.class, text: c.text, attrs: { title: c.title } });
    cell.setAttribute('grid-column', String(i + 1));
    row.append(cell);
  });
  return row;
}

/** An empty grid cell to fill (e.g. a tree name with its twistie). */
export function gridCell(className = ''): HTMLElement {
  return kit('vscode-data-grid-cell', { class: className });
}
