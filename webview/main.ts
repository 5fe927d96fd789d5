/**
 * Entry of the inspector webview (bundled to dist/webview.js; its styles to dist/webview.css).
 * Receives the host's `ToWebview` messages, keeps the view state, and says `ready` on load with the
 * state saved before a reload so the host can restore it.
 */
import './webview.css';
import './analyses.css';
import { App } from './app';
import { isToWebview, Store } from './state';
import { vscodeApi } from './vscode-api';

const store = new Store(vscodeApi());
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
