// Shared by the feature suites: the extension's test API, polling, and the example paths.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import type { ToWebview } from '../../../protocol/webview';

export const ROOT = path.resolve(__dirname, '../../../..');
export const TUTORIAL = path.join(ROOT, 'examples/tutorial/tutorial.transformer.json');
export const TRANSLATION = path.join(ROOT, 'examples/translation/translation.transformer.json');
export const LLAMA = path.join(ROOT, 'examples/hf/llama-2-7b/config.json');
export const MISTRAL = path.join(ROOT, 'examples/hf/mistral-7b-v0.1/config.json');
export const TINY_LLAMA = path.join(ROOT, 'examples/tiny-llama/config.json');

export async function api(): Promise<TestApi> {
  const ext = vscode.extensions.all.find((e) => (e.packageJSON as { name: string }).name === 'transformer-inspector');
  assert.ok(ext, 'the extension is loaded');
  return (await ext.activate()) as TestApi;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Messages posted to the webview after `from` (an index into lastMessages). */
export function messagesSince(a: TestApi, from: number): ToWebview[] {
  return a.panel.lastMessages.slice(from);
}

export function last<T extends ToWebview['type']>(msgs: readonly ToWebview[], type: T): Extract<ToWebview, { type: T }> | undefined {
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].type === type) return msgs[i] as Extract<ToWebview, { type: T }>;
  return undefined;
}

export async function closeEverything(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** A suite's start: nothing else open, `config` in the inspector, on `input` when given. */
export async function openFresh(a: TestApi, config: string, input?: string | number[]): Promise<void> {
  await closeEverything();
  await vscode.commands.executeCommand('transformerInspector.open', config);
  await a.inspector.idle();
  if (input === undefined) return;
  await vscode.commands.executeCommand('transformerInspector.setInput', input);
  await a.inspector.idle();
}

/** A suite's end: the config remembered before its first step (how the next suites expect to find it), all closed. */
export async function leaveAtStart(a: TestApi): Promise<void> {
  await vscode.commands.executeCommand('transformerInspector.reset');
  await a.inspector.idle();
  await closeEverything();
}

/** The text of every hover at `needle` (its first occurrence) in `doc`. */
export async function hoverText(doc: vscode.TextDocument, needle: string): Promise<string> {
  const offset = doc.getText().indexOf(needle);
  assert.ok(offset >= 0, `${needle} is in the document`);
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, doc.positionAt(offset + 2));
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}
