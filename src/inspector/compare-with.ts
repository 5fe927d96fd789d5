/**
 * Compare With…: what the current run is compared with — another input through the loaded model, another
 * model (a config or folder: a second checkpoint of the same architecture, or a quantized checkpoint) or
 * the quantized copy the Quantization tab made — chosen in a quick pick (a file dialog for a model), and
 * kept while the comparison is open so that every step re-compares at the new hook (both sides step
 * together). The engine refuses models whose hooks or shapes differ, naming both.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InputRequest, WorkerRequest } from '../../protocol/worker';
import type { ComparisonView } from '../../protocol/webview';
import type { QuantReport } from '../../protocol/quant';

/** The other side of a comparison. */
export type CompareTarget = { kind: 'input'; input: InputRequest } | { kind: 'model'; with: { path: string } | { quantized: true } };

/** An input typed as text, or ids as "1 2 3". */
export function typedInput(typed: string): InputRequest {
  return /^\s*\d+(\s+\d+)*\s*$/.test(typed) ? { ids: typed.trim().split(/\s+/).map(Number) } : { text: typed };
}

/**
 * The command's argument as a target: a string is another input (as before), `{ model: PATH }` another
 * model, `{ quantized: true }` the quantized copy; anything else undefined (then the user is asked).
 */
export function targetOfArgument(arg: unknown): CompareTarget | undefined {
  if (typeof arg === 'string') return arg.trim() === '' ? undefined : { kind: 'input', input: typedInput(arg) };
  if (arg instanceof vscode.Uri) return { kind: 'model', with: { path: arg.fsPath } };
  if (typeof arg !== 'object' || arg === null) return undefined;
  const a = arg as Record<string, unknown>;
  if (typeof a.model === 'string' && a.model !== '') return { kind: 'model', with: { path: path.resolve(a.model) } };
  if (a.quantized === true) return { kind: 'model', with: { quantized: true } };
  return undefined;
}

/** The worker request that compares with `target` at `hook`. */
export function compareRequest(target: CompareTarget, hook: string): Extract<WorkerRequest, { kind: 'compare' | 'compareModel' }> {
  return target.kind === 'input' ? { kind: 'compare', input: target.input, hook } : { kind: 'compareModel', with: target.with, hook };
}

export function compareTitle(target: CompareTarget): string {
  if (target.kind === 'input') return 'Comparing the two inputs';
  return 'quantized' in target.with ? 'Comparing with the quantized copy' : `Comparing with ${path.basename(path.dirname(target.with.path))}/${path.basename(target.with.path)}`;
}

interface Choice extends vscode.QuickPickItem {
  pick: 'input' | 'config' | 'folder' | 'quantized';
}

/** Ask what to compare with: another input, another model (a file dialog), or the quantized copy when there is one. */
export async function askTarget(current: { text?: string; ids: number[]; tokenizer: boolean }, quant: QuantReport | undefined): Promise<CompareTarget | undefined> {
  const items: Choice[] = [
    { pick: 'input', label: '$(symbol-string) Another input…', description: 'the same model on other tokens' },
    { pick: 'config', label: '$(file-symlink-file) Another model: a config file…', description: 'another checkpoint of this architecture (*.transformer.json, config.json)' },
    // Native dialogs on Windows and Linux pick files or folders, not both: two entries.
    { pick: 'folder', label: '$(folder) Another model: a checkpoint folder…', description: 'a folder holding a config (a saved or GPTQ/AWQ-quantized checkpoint)' },
  ];
  if (quant) {
    const grid = quant.method === 'int8' || quant.method === 'llm-int8' ? '' : `, ${quant.bits} bits`;
    items.push({ pick: 'quantized', label: '$(symbol-numeric) The quantized copy', description: `made in the Quantization tab (${quant.method}${grid})` });
  }
  const chosen = await vscode.window.showQuickPick(items, { title: 'Compare With…', placeHolder: 'Compare the current run with…' });
  if (!chosen) return undefined;
  if (chosen.pick === 'quantized') return { kind: 'model', with: { quantized: true } };
  if (chosen.pick === 'config' || chosen.pick === 'folder') {
    const files = chosen.pick === 'config';
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const picked = await vscode.window.showOpenDialog({
      title: files ? 'Compare With… another model (its config)' : 'Compare With… another model (a folder holding its config)',
      openLabel: 'Compare',
      canSelectFiles: files,
      canSelectFolders: !files,
      canSelectMany: false,
      ...(files ? { filters: { 'Transformer configs (*.transformer.json, config.json)': ['json'] } } : {}),
      ...(folder ? { defaultUri: folder } : {}),
    });
    return picked?.[0] ? { kind: 'model', with: { path: picked[0].fsPath } } : undefined;
  }
  const typed = await vscode.window.showInputBox({
    title: 'Compare With… another input',
    prompt: current.tokenizer ? 'The other input, as text (or token ids separated by spaces)' : 'The other input, as token ids separated by spaces',
    value: current.text ?? current.ids.join(' '),
  });
  return typed === undefined || typed.trim() === '' ? undefined : { kind: 'input', input: typedInput(typed) };
}

/** The comparison open in the panel: what it compares with, re-asked at each new hook. */
export class OpenComparison {
  private target: CompareTarget | undefined;
  /** Counts refreshes: only the newest reply is shown. */
  private seq = 0;
  /** The hook last shown, for the test API and to skip a refresh at the same hook. */
  shown: { hook: string; models?: { a: string; b: string } } | undefined;

  open(target: CompareTarget, comparison: ComparisonView): void {
    this.target = target;
    this.seq++;
    this.shown = { hook: comparison.hook, ...(comparison.models && { models: comparison.models }) };
  }

  close(): void {
    this.target = undefined;
    this.shown = undefined;
    this.seq++;
  }

  get isOpen(): boolean {
    return this.target !== undefined;
  }

  /** After a move: the comparison at the new hook (not queued; a reply that a newer move overtook is dropped). */
  async refresh(hook: string, request: (r: ReturnType<typeof compareRequest>) => Promise<ComparisonView>, post: (c: ComparisonView) => void, warn: (m: string) => void): Promise<void> {
    const target = this.target;
    if (!target || this.shown?.hook === hook) return;
    const seq = ++this.seq;
    try {
      const c = await request(compareRequest(target, hook));
      if (seq !== this.seq || this.target !== target) return;
      const { kind: _kind, ...view } = c as ComparisonView & { kind?: string };
      this.shown = { hook: view.hook, ...(view.models && { models: view.models }) };
      post(view);
    } catch (e) {
      if (seq === this.seq) warn(`no comparison at ${hook}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
