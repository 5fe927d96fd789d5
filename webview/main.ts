/**
 * Entry of the inspector webview (bundled to dist/webview.js; its styles to dist/webview.css).
 * Receives the host's `ToWebview` messages, keeps the view state, and says `ready` on load with the
 * state saved before a reload so the host can restore it.
 */
import './webview.css';
import './analyses.css';
import { App } from './app';
import { watchCsp } from './csp-watch';
import { isToWebview, Store } from './state';
import { defineToolkit } from './toolkit-elements';
import { vscodeApi } from './vscode-api';

watchCsp();
const store = new Store(vscodeApi());

function start(): void {
  // The host's page has <div id="root">; make one if it is missing.
  let root = document.getElementById('root');
  if (!root) {
    root = document.createElement('div');
    root.id = 'root';
    document.body.append(root);
  }
  root.classList.add('inspector');
  new App(root, store);
  window.addEventListener('message', (event: MessageEvent) => {
    if (isToWebview(event.data)) store.dispatch(event.data);
  });
  store.start();
}

// The UI kit's elements are defined first, so the first render is already styled; if the kit fails,
// the panel still starts (its controls then stay plain elements) and says why in the console.
try {
  defineToolkit();
} catch (e) {
  console.error('Transformer Inspector: the UI toolkit did not load', e);
}
start();
