/**
 * One floating hover tooltip for all canvases (a canvas has no elements to put a title on). Styled
 * like VS Code's hover widget; placed with CSSOM, which the CSP allows.
 */
import { h } from '../dom';

let tip: HTMLElement | undefined;

function element(): HTMLElement {
  if (!tip || !tip.isConnected) {
    tip = h('div', { class: 'tooltip', attrs: { role: 'tooltip', 'aria-hidden': 'true' } });
    document.body.appendChild(tip);
  }
  return tip;
}

/** Show `lines` next to the pointer at client coordinates (x, y). */
export function showTooltip(x: number, y: number, lines: string[]): void {
  const el = element();
  el.replaceChildren(
    ...lines.map((line, i) => h('div', { class: i === 0 ? 'tooltip-title' : 'tooltip-line', text: line })),
  );
  el.hidden = false;
  const pad = 12;
  const { width, height } = el.getBoundingClientRect();
  const left = x + pad + width > window.innerWidth ? Math.max(0, x - pad - width) : x + pad;
  const top = y + pad + height > window.innerHeight ? Math.max(0, y - pad - height) : y + pad;
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
}

export function hideTooltip(): void {
  if (tip) tip.hidden = true;
}
