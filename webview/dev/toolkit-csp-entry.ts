// The UI toolkit's components for the panel's standard controls, registered and rendered: the page
// webview/dev/toolkit-csp.mjs loads under the panel's own Content-Security-Policy.
import { provideVSCodeDesignSystem, vsCodeTextField } from '@vscode/webview-ui-toolkit';
import { defineToolkit } from '../toolkit-elements';

// The panel's own components, as the panel defines them, and a text field besides.
defineToolkit();
provideVSCodeDesignSystem().register(vsCodeTextField());

const root = document.getElementById('root') as HTMLElement;
const el = (tag: string, text?: string) => {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  return e;
};
root.append(el('vscode-button', 'Step forward'));
const dropdown = el('vscode-dropdown');
dropdown.append(el('vscode-option', 'head 0'), el('vscode-option', 'head 1'));
root.append(dropdown);
const panels = el('vscode-panels');
panels.append(
  el('vscode-panel-tab', 'Step'),
  el('vscode-panel-tab', 'Parameters'),
  el('vscode-panel-view', 'step'),
  el('vscode-panel-view', 'params'),
);
root.append(panels, el('vscode-text-field'), el('vscode-progress-ring'));
// ?determinate=1: a ring with a value, whose template binds an inline style attribute.
if (new URLSearchParams(location.search).get('determinate') === '1') {
  const ring = el('vscode-progress-ring');
  ring.setAttribute('value', '40');
  root.append(ring);
}
const grid = el('vscode-data-grid') as HTMLElement & { rowsData: object[] };
grid.rowsData = [
  { name: 'embed', count: '2,048' },
  { name: 'blocks', count: '1,536' },
];
root.append(grid);
setTimeout(() => document.body.setAttribute('data-rendered', 'true'), 300);
