/** The webview API VS Code injects, typed with the protocol. */
import type { FromWebview, PanelState } from '../protocol/webview';
import type { WebviewApi } from './state';

declare function acquireVsCodeApi(): {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: PanelState): void;
};

/** `acquireVsCodeApi` may be called once per page load. */
export function vscodeApi(): WebviewApi {
  return acquireVsCodeApi();
}
