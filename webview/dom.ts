/**
 * A tiny element builder. Text goes in through textContent and attributes through setAttribute, so
 * nothing is parsed as HTML; `style` attributes are refused (the CSP blocks them): set styles through
 * CSSOM (`el.style.x = …`) or classes from webview.css.
 */

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  text?: string;
  /** Attributes; `false` and `undefined` leave one out, `true` sets it empty. */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (name === 'style')
      throw new Error('inline style attributes are blocked by the CSP; use CSSOM or a class');
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [type, listener] of Object.entries(props.on ?? {})) {
    el.addEventListener(type, listener as EventListener);
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Put a canvas's pixels in place: one ImageData, drawn once. */
export function paint(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
  pixels: Uint8ClampedArray<ArrayBuffer>,
): void {
  canvas.width = Math.max(1, width);
  canvas.height = Math.max(1, height);
  const ctx = canvas.getContext('2d');
  if (!ctx || width === 0 || height === 0) return;
  ctx.putImageData(new ImageData(pixels, width, height), 0, 0);
}

/** Device pixels per CSS pixel, at least 1. */
export function pixelRatio(): number {
  return Math.max(1, Math.round((window.devicePixelRatio || 1) * 4) / 4);
}

/**
 * Re-render a subtree only when its inputs change (by identity), keeping keyboard focus on the
 * element with the same `data-focus-key` across the rebuild.
 */
export class Section {
  private deps: unknown[] | undefined;

  constructor(readonly element: HTMLElement) {}

  update(deps: unknown[], render: () => Child[]): void {
    if (this.deps && this.deps.length === deps.length && this.deps.every((d, i) => d === deps[i])) return;
    this.deps = deps;
    const active = document.activeElement;
    const focusKey =
      active instanceof HTMLElement && this.element.contains(active) ? active.dataset.focusKey : undefined;
    this.element.replaceChildren();
    append(this.element, ...render());
    if (focusKey)
      this.element.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
  }

  /** Force the next update to render (theme or size changed). */
  invalidate(): void {
    this.deps = undefined;
  }
}
