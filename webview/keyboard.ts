/**
 * Keyboard shortcuts of the stepper, as a pure mapping from a key press to a host command:
 * ← / → step back and forward, Home resets, End runs to the end. Keys typed into form fields, keys
 * with modifiers (VS Code's own shortcuts) and arrows inside a tab list or grid (which use them to
 * move focus) are left alone.
 */
import type { WebviewCommand } from '../protocol/webview';

export interface KeyPress {
  key: string;
  altKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  shiftKey?: boolean;
  /** Where the key was pressed, as the few facts this needs. */
  target?: { tagName?: string; isContentEditable?: boolean; role?: string | null; inComposite?: boolean };
}

const KEYS: Record<string, WebviewCommand> = {
  ArrowLeft: 'stepBack',
  ArrowRight: 'stepForward',
  Home: 'reset',
  End: 'runToEnd',
  g: 'generateNextToken',
};

/** Form fields, native and the UI kit's (whose keys reach the page at their host element). */
const TYPING_TAGS = new Set([
  'INPUT',
  'TEXTAREA',
  'SELECT',
  'VSCODE-TEXT-FIELD',
  'VSCODE-TEXT-AREA',
  'VSCODE-DROPDOWN',
]);
/** Roles that use the arrows themselves. */
const OWN_ARROWS = new Set(['tab', 'combobox', 'listbox', 'option', 'textbox', 'gridcell', 'grid']);

export function keyToCommand(e: KeyPress): WebviewCommand | undefined {
  if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return undefined;
  const command = KEYS[e.key];
  if (!command) return undefined;
  const t = e.target;
  if (t) {
    if (t.isContentEditable || (t.tagName && TYPING_TAGS.has(t.tagName.toUpperCase()))) return undefined;
    if (t.inComposite || (t.role && OWN_ARROWS.has(t.role))) return undefined;
  }
  return command;
}

/** Shortcut shown in a button's tooltip and aria-keyshortcuts. */
export const SHORTCUTS: Partial<Record<WebviewCommand, { label: string; aria: string }>> = {
  stepBack: { label: '←', aria: 'ArrowLeft' },
  stepForward: { label: '→', aria: 'ArrowRight' },
  reset: { label: 'Home', aria: 'Home' },
  runToEnd: { label: 'End', aria: 'End' },
  generateNextToken: { label: 'G', aria: 'G' },
};

/**
 * Focus movement inside a grid of `count` items laid out `columns` wide (the head small multiples):
 * arrows move by one or by a row, Home/End to the ends. Undefined for any other key.
 */
export function gridMove(key: string, index: number, count: number, columns: number): number | undefined {
  const cols = Math.max(1, columns);
  let next: number;
  switch (key) {
    case 'ArrowLeft':
      next = index - 1;
      break;
    case 'ArrowRight':
      next = index + 1;
      break;
    case 'ArrowUp':
      next = index - cols;
      break;
    case 'ArrowDown':
      next = index + cols;
      break;
    case 'Home':
      next = 0;
      break;
    case 'End':
      next = count - 1;
      break;
    default:
      return undefined;
  }
  return Math.max(0, Math.min(count - 1, next));
}
