import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMAND } from '../ids';
import type { Inspector } from '../inspector/inspector';
import { parseQuantizeSpec, type Calibration, type QuantMethodName, type QuantizeSpec } from '../../protocol/quant';

/**
 * *Quantize Model…*: method, bits and group from quick picks, calibration from the inspector's current
 * input, a text file or the bundled sample. The model is quantized in the engine process beside the float
 * one (opening the inspector on it first when needed), and the panel's Quantization tab shows the result.
 * `executeCommand(quantizeModel, uri?, spec?)` with a spec (protocol/quant.ts) runs without dialogs.
 */
const METHODS: { label: QuantMethodName; description: string }[] = [
  { label: 'gptq', description: 'GPTQ: error-compensating, from calibration activations' },
  { label: 'awq', description: 'AWQ: activation-aware scales and clipping' },
  { label: 'rtn', description: 'round to nearest' },
  { label: 'llm-int8', description: 'LLM.int8(): vector-wise int8 with float outlier dimensions' },
  { label: 'int8', description: 'int8 absmax per output channel' },
];

/** Calibration text files larger than this are refused (the engine tokenizes all of it). */
const MAX_CALIBRATION_BYTES = 4_000_000;

function modelPathOf(editor: vscode.TextEditor | undefined): string | undefined {
  const f = editor?.document.uri.scheme === 'file' ? editor.document.uri.fsPath : undefined;
  return f && (f.endsWith('.transformer.json') || path.basename(f) === 'config.json' || f.endsWith('.gguf')) ? f : undefined;
}

async function pickCalibration(inputTokens: number | undefined): Promise<Calibration | undefined> {
  const items = [
    ...(inputTokens !== undefined ? [{ label: 'Current input', description: `${inputTokens} tokens`, source: 'input' as const }] : []),
    { label: 'Bundled sample', description: '32 King James Version verses', source: 'sample' as const },
    { label: 'Text file…', description: 'one sequence a line', source: 'text' as const },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Quantize Model: calibration data' });
  if (!pick) return undefined;
  if (pick.source !== 'text') return { kind: pick.source };
  const file = (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Calibrate on this text', filters: { Text: ['txt', 'md'], 'All files': ['*'] } }))?.[0];
  if (!file) return undefined;
  const stat = await vscode.workspace.fs.stat(file);
  if (stat.size > MAX_CALIBRATION_BYTES) {
    void vscode.window.showErrorMessage(`Quantize Model: ${path.basename(file.fsPath)} is ${stat.size} bytes; calibration text is limited to ${MAX_CALIBRATION_BYTES}.`);
    return undefined;
  }
  const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(file));
  return { kind: 'text', text, source: path.basename(file.fsPath) };
}

async function pickSpec(inputTokens: number | undefined): Promise<QuantizeSpec | undefined> {
  const method = await vscode.window.showQuickPick(METHODS, { title: 'Quantize Model: method' });
  if (!method) return undefined;
  let bits = 8;
  let group: number | undefined;
  if (method.label !== 'int8' && method.label !== 'llm-int8') {
    const b = await vscode.window.showQuickPick(['4', '3', '8', '2'], { title: 'Quantize Model: bits' });
    if (!b) return undefined;
    bits = Number(b);
    const g = await vscode.window.showQuickPick(['128', '64', '32', 'whole row'], { title: 'Quantize Model: group size (input columns)' });
    if (!g) return undefined;
    group = g === 'whole row' ? undefined : Number(g);
  }
  const calibration = await pickCalibration(inputTokens);
  if (!calibration) return undefined;
  return { method: method.label, bits, ...(group ? { group } : {}), calibration };
}

export function registerQuantizeCommand(inspector: Inspector): vscode.Disposable {
  return vscode.commands.registerCommand(COMMAND.quantizeModel, async (arg?: unknown, specArg?: unknown) => {
    const given = specArg === undefined ? undefined : parseQuantizeSpec(specArg);
    if (specArg !== undefined && !given) {
      void vscode.window.showErrorMessage('Quantize Model: the quantization settings given are malformed.');
      return undefined;
    }
    // The model in the panel, unless a file is named (or the active editor holds another one).
    let model = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' && arg !== '' ? arg : (inspector.state.configPath ?? modelPathOf(vscode.window.activeTextEditor));
    if (!model) {
      const pick = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Quantize this model', filters: { 'Model config or GGUF': ['json', 'gguf'] } });
      model = pick?.[0]?.fsPath;
    }
    if (!model) return undefined;
    if (inspector.state.configPath !== path.resolve(model) || !inspector.state.modelLoaded) await vscode.commands.executeCommand(COMMAND.open, path.resolve(model));
    await inspector.idle();
    const state = inspector.state;
    if (!state.modelLoaded) return undefined; // the inspector has shown why
    const spec = given ?? (await pickSpec(state.model?.ids.length));
    if (!spec) return undefined;
    return inspector.quantize(spec);
  });
}
