import * as path from 'node:path';
import { fork } from 'node:child_process';
import * as vscode from 'vscode';
import { COMMAND } from '../ids';
import { renderQuantizeReport, type QuantizeReportJson } from './report';

/**
 * *Quantize Model…*: method, bits and group from quick picks, calibration from the bundled sample or a
 * text file; the engine's `quantize … --json` runs in its own process (dist/cli.js, cancellable), and the
 * report opens as a Markdown preview.
 */
const METHODS = [
  { label: 'gptq', description: 'GPTQ: error-compensating, from calibration activations' },
  { label: 'awq', description: 'AWQ: activation-aware scales and clipping' },
  { label: 'rtn', description: 'round to nearest' },
  { label: 'llm-int8', description: 'LLM.int8(): vector-wise int8 with float outlier dimensions' },
  { label: 'int8', description: 'int8 absmax per output channel' },
];

function modelPathOf(editor: vscode.TextEditor | undefined): string | undefined {
  const f = editor?.document.uri.scheme === 'file' ? editor.document.uri.fsPath : undefined;
  return f && (f.endsWith('.transformer.json') || path.basename(f) === 'config.json' || f.endsWith('.gguf')) ? f : undefined;
}

async function pickArgs(): Promise<string[] | undefined> {
  const method = await vscode.window.showQuickPick(METHODS, { title: 'Quantize Model: method' });
  if (!method) return undefined;
  const args = ['--method', method.label];
  if (method.label !== 'int8' && method.label !== 'llm-int8') {
    const bits = await vscode.window.showQuickPick(['4', '3', '8', '2'], { title: 'Quantize Model: bits' });
    if (!bits) return undefined;
    const group = await vscode.window.showQuickPick(['128', '64', '32', 'whole row'], { title: 'Quantize Model: group size (input columns)' });
    if (!group) return undefined;
    args.push('--bits', bits, ...(group === 'whole row' ? [] : ['--group', group]));
  }
  const calib = await vscode.window.showQuickPick(['Bundled sample (32 KJV verses)', 'Text file…'], { title: 'Quantize Model: calibration text' });
  if (!calib) return undefined;
  if (calib.startsWith('Text')) {
    const file = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Calibrate on this text' });
    if (!file?.[0]) return undefined;
    args.push('--calib-file', file[0].fsPath);
  }
  return args;
}

function runCli(cli: string, args: string[], token: vscode.CancellationToken): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = fork(cli, args, { silent: true });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const cancel = token.onCancellationRequested(() => child.kill());
    child.on('error', reject);
    child.on('exit', (code) => {
      cancel.dispose();
      if (token.isCancellationRequested) reject(new Error('cancelled'));
      else if (code === 0) resolve(out);
      else reject(new Error(err.trim().replace(/^error: /, '') || `the engine exited with code ${code}`));
    });
  });
}

export function registerQuantizeCommand(context: vscode.ExtensionContext): vscode.Disposable {
  return vscode.commands.registerCommand(COMMAND.quantizeModel, async (arg?: unknown) => {
    let model = arg instanceof vscode.Uri ? arg.fsPath : modelPathOf(vscode.window.activeTextEditor);
    if (!model) {
      const pick = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Quantize this model', filters: { 'Model config or GGUF': ['json', 'gguf'] } });
      model = pick?.[0]?.fsPath;
    }
    if (!model) return;
    const args = await pickArgs();
    if (!args) return;
    const cli = path.join(context.extensionPath, 'dist', 'cli.js');
    try {
      const text = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Quantizing ${path.basename(path.dirname(model))} (${args.join(' ')})`, cancellable: true },
        (_progress, token) => runCli(cli, ['quantize', model, ...args, '--json'], token),
      );
      const report = JSON.parse(text) as QuantizeReportJson;
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: renderQuantizeReport(model, report) });
      await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
    } catch (e) {
      if ((e as Error).message !== 'cancelled') void vscode.window.showErrorMessage(`Quantize Model: ${(e as Error).message}`);
    }
  });
}
