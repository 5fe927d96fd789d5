import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { parseFromWebview, type FromWebview, type ToWebview } from '../../protocol/webview';
import { VIEW_TYPE } from '../ids';
import type { Log } from '../log';
import { makeNonce, panelHtml } from './html';

/** How many posted messages the test API keeps. */
const KEEP_MESSAGES = 200;

/**
 * The inspector webview panel: its HTML and options (scripts on, resources only from dist/ and
 * media/), and its two message directions. Every message from the webview goes through
 * `parseFromWebview`; malformed or unknown ones are dropped and logged.
 */
export class InspectorPanel implements vscode.Disposable {
  /** Messages posted to the webview, newest last (for tests). */
  readonly sent: ToWebview[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposedEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposedEmitter.event;
  private disposed = false;

  private constructor(
    readonly webviewPanel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
    private readonly handler: (msg: FromWebview) => Promise<void>,
  ) {
    webviewPanel.webview.options = webviewOptions(extensionUri);
    webviewPanel.iconPath = {
      light: vscode.Uri.joinPath(extensionUri, 'media', 'panel-light.svg'),
      dark: vscode.Uri.joinPath(extensionUri, 'media', 'panel-dark.svg'),
    };
    webviewPanel.webview.html = this.html();
    this.disposables.push(
      webviewPanel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      webviewPanel.onDidDispose(() => this.dispose()),
    );
  }

  /** A new panel beside the active editor. */
  static create(extensionUri: vscode.Uri, log: Log, handler: (msg: FromWebview) => Promise<void>): InspectorPanel {
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'Transformer Inspector',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      webviewOptions(extensionUri),
    );
    return new InspectorPanel(panel, extensionUri, log, handler);
  }

  /** A panel VS Code restored after a window reload (from the serializer). */
  static adopt(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, log: Log, handler: (msg: FromWebview) => Promise<void>): InspectorPanel {
    return new InspectorPanel(panel, extensionUri, log, handler);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  set title(title: string) {
    if (!this.disposed) this.webviewPanel.title = title;
  }

  /**
   * Show the panel without taking focus, always beside the config editor: where it is, unless it
   * shares the active editor's group (then it would cover the config), in which case it moves beside.
   */
  reveal(): void {
    if (this.disposed) return;
    const editor = vscode.window.activeTextEditor?.viewColumn;
    // A panel hidden behind another tab of its group has no viewColumn: find its group by its tab.
    const here = this.webviewPanel.viewColumn ?? this.tabColumn();
    const covers = editor !== undefined && here !== undefined && here === editor;
    this.webviewPanel.reveal(covers ? vscode.ViewColumn.Beside : undefined, true);
  }

  /** The column of the group holding this panel's tab (visible or not). */
  private tabColumn(): vscode.ViewColumn | undefined {
    const title = this.webviewPanel.title;
    return vscode.window.tabGroups.all.find((g) =>
      g.tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(VIEW_TYPE) && t.label === title),
    )?.viewColumn;
  }

  post(msg: ToWebview): void {
    if (this.disposed) return;
    this.sent.push(msg);
    if (this.sent.length > KEEP_MESSAGES) this.sent.splice(0, this.sent.length - KEEP_MESSAGES);
    void this.webviewPanel.webview.postMessage(msg).then(undefined, (e: unknown) => this.log.warn(`postMessage failed: ${String(e)}`));
  }

  /** A message as if the webview had sent it: validated the same way; resolves when it is handled. */
  receive(raw: unknown): Promise<void> {
    const msg = parseFromWebview(raw);
    if (!msg) {
      this.log.warn(`dropped a malformed or unknown message from the webview: ${preview(raw)}`);
      return Promise.resolve();
    }
    return this.handler(msg).catch((e: unknown) => this.log.error(`handling '${msg.type}' from the webview failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.webviewPanel.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposedEmitter.fire();
    this.disposedEmitter.dispose();
  }

  private html(): string {
    const webview = this.webviewPanel.webview;
    const root = this.extensionUri;
    const styles = [
      ['dist', 'webview.css'],
      ['media', 'webview.css'],
    ]
      .map((parts) => vscode.Uri.joinPath(root, ...parts))
      .filter((u) => fs.existsSync(u.fsPath))
      .map((u) => webview.asWebviewUri(u).toString());
    return panelHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'webview.js')).toString(),
      styleUris: styles,
      nonce: makeNonce(),
      styleNonce: true, // the UI toolkit's injected styles carry the nonce (no 'unsafe-inline')
    });
  }
}

/** Scripts on; local resources only from the built webview (dist/) and media/ (its stylesheet, icons). */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function preview(raw: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(raw) ?? String(raw);
  } catch {
    s = String(raw);
  }
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
