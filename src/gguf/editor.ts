import * as path from 'node:path';
import { fork } from 'node:child_process';
import * as vscode from 'vscode';
import type { GgufSummary } from '../../engine/cli/gguf';
import { COMMAND, GGUF_EDITOR } from '../ids';
import { makeNonce } from '../panel/html';
import type { Log } from '../log';
import { escapeHtml, GGUF_STYLE, ggufArchitecture, renderGgufBody, RUNNABLE_GGUF_ARCHITECTURES } from './render';

/** How long reading a GGUF's header may take in the engine process. */
const READ_TIMEOUT_MS = 30_000;

/** What a GGUF view showed, for the tests. */
export interface GgufShown {
  file: string;
  architecture?: string;
  parameters?: number;
  runnable: boolean;
  error?: string;
}

/**
 * Opening a `.gguf` in VS Code: a read-only custom editor showing its metadata (the `gguf --json
 * --tensors` report of dist/cli.js, read in its own process so a hostile file cannot hurt the host),
 * with an *Open in Inspector* link for the architectures the engine runs. No scripts in the page; the
 * one command it may run is Open Inspector.
 */
export class GgufEditorProvider implements vscode.CustomReadonlyEditorProvider {
  readonly shown = new Map<string, GgufShown>();

  constructor(
    private readonly extensionPath: string,
    private readonly log: Log,
  ) {}

  static register(extensionPath: string, log: Log): { provider: GgufEditorProvider; disposable: vscode.Disposable } {
    const provider = new GgufEditorProvider(extensionPath, log);
    const disposable = vscode.window.registerCustomEditorProvider(GGUF_EDITOR, provider, { supportsMultipleEditorsPerDocument: true });
    return { provider, disposable };
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const file = document.uri.fsPath;
    panel.webview.options = { enableScripts: false, enableCommandUris: [COMMAND.open], localResourceRoots: [] };
    panel.webview.html = page(`<p class="hint">Reading ${escapeHtml(path.basename(file))}…</p>`);
    try {
      const summary = JSON.parse(await this.readSummary(file)) as GgufSummary;
      const architecture = ggufArchitecture(summary);
      const runnable = architecture !== undefined && RUNNABLE_GGUF_ARCHITECTURES.includes(architecture);
      const link = `command:${COMMAND.open}?${encodeURIComponent(JSON.stringify([file]))}`;
      panel.webview.html = page(renderGgufBody(summary, path.basename(file), link));
      this.shown.set(file, { file, architecture, parameters: summary.parameters, runnable });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.info(`${file}: ${message}`);
      panel.webview.html = page(`<h1>${escapeHtml(path.basename(file))}</h1><p class="error" data-testid="gguf-error">Not a readable GGUF file: ${escapeHtml(message)}</p>`);
      this.shown.set(file, { file, runnable: false, error: message });
    }
  }

  private readSummary(file: string): Promise<string> {
    const cli = path.join(this.extensionPath, 'dist', 'cli.js');
    return new Promise((resolve, reject) => {
      const child = fork(cli, ['gguf', file, '--json', '--tensors'], { silent: true });
      let out = '';
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), READ_TIMEOUT_MS);
      child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(signal ? `reading the header took longer than ${READ_TIMEOUT_MS / 1000} s` : err.trim().replace(/^error: /, '') || `the engine exited with code ${code}`));
      });
    });
  }
}

function page(body: string): string {
  const nonce = makeNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${GGUF_STYLE}</style>
<title>GGUF</title>
</head>
<body><main>
${body}
</main></body>
</html>`;
}
