import { readTextGuarded } from '../../engine/io/guarded';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findConfig } from '../../engine/model/load';
import { isInspectorError } from '../../engine/errors';
import { isTracePath } from '../../engine/tracefile/reader';
import type { InputRequest } from '../../protocol/worker';
import { walkTree } from '../../protocol/tree';
import { COMMAND } from '../ids';
import { configKind } from '../config/recognise';
import { countLine, formatIds, parseInput } from './input';
import { isReadableFile, uriForPath } from '../uris';
import type { Inspector } from './inspector';
import { generateCommand } from './generate';

/**
 * The palette commands. Each also takes arguments, so the tests, the CodeLens and the sidebar can
 * run it without dialogs: `open(uri | path)`, `setInput(ids, decoderIds?)` (text as typed),
 * `exportTensor(uri)`.
 */
export function registerCommands(inspector: Inspector): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(COMMAND.open, (arg?: unknown) => openCommand(inspector, arg)),
    vscode.commands.registerCommand(COMMAND.setInput, (ids?: unknown, decoderIds?: unknown) => setInputCommand(inspector, ids, decoderIds)),
    vscode.commands.registerCommand(COMMAND.stepForward, () => inspector.move({ to: 'next' })),
    vscode.commands.registerCommand(COMMAND.stepBack, () => inspector.move({ to: 'previous' })),
    vscode.commands.registerCommand(COMMAND.runToEnd, () => inspector.move({ to: 'end' })),
    vscode.commands.registerCommand(COMMAND.reset, () => inspector.move({ to: 'start' })),
    vscode.commands.registerCommand(COMMAND.showParameters, () => inspector.showParameters()),
    vscode.commands.registerCommand(COMMAND.exportTensor, (target?: unknown) => exportCommand(inspector, target)),
    vscode.commands.registerCommand(COMMAND.compareWith, (other?: unknown) => inspector.compareWith(other)),
    vscode.commands.registerCommand(COMMAND.addToAblation, (node?: unknown) => ablationCommand(inspector, node, true)),
    vscode.commands.registerCommand(COMMAND.removeFromAblation, (node?: unknown) => ablationCommand(inspector, node, false)),
    vscode.commands.registerCommand(COMMAND.generateNextToken, (arg?: unknown) => generateCommand(inspector, arg, TELL)),
  ];
}

/** Refusals as VS Code messages. */
const TELL = {
  error: (message: string) => void vscode.window.showErrorMessage(message),
  info: (message: string) => void vscode.window.showInformationMessage(message),
};

/** The sidebar's context menu passes its node; tests may pass a node id (`blocks.2.attn#head1`). */
function ablationCommand(inspector: Inspector, node: unknown, on: boolean): void {
  const tree = inspector.state.tree;
  const id = typeof node === 'string' ? node : typeof node === 'object' && node !== null && typeof (node as { id?: unknown }).id === 'string' ? (node as { id: string }).id : undefined;
  const found = id !== undefined && tree ? [...walkTree(tree)].find((x) => x.node.id === id)?.node : undefined;
  if (!found) {
    void vscode.window.showInformationMessage('Transformer Inspector: choose a head, an MLP or a layer in the Model view (right-click → Add to Ablation).');
    return;
  }
  inspector.setAblated(found, on);
}

/** The config to open: the argument, else the active config editor, else a file picker. */
async function openCommand(inspector: Inspector, arg: unknown): Promise<void> {
  let target: string | undefined;
  if (arg instanceof vscode.Uri) target = arg.fsPath;
  else if (typeof arg === 'string' && arg !== '') target = arg;
  else {
    // The active editor, else a visible one: from the command palette (in a browser window) the
    // active editor can be momentarily unset while the quick input has focus.
    const docs = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors].map((e) => e?.document);
    const doc = docs.find((d) => d && isReadableFile(d.uri) && configKind(d.uri.fsPath, d.getText()));
    if (doc) target = doc.uri.fsPath;
  }
  if (!target) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Open a Transformer config',
      openLabel: 'Inspect',
      canSelectMany: false,
      canSelectFolders: false,
      filters: { 'Transformer configs (*.transformer.json, config.json)': ['json'], 'Traces (*.trace.safetensors)': ['safetensors'] },
      ...(vscode.workspace.workspaceFolders?.[0] ? { defaultUri: vscode.workspace.workspaceFolders[0].uri } : {}),
    });
    target = picked?.[0]?.fsPath;
  }
  if (!target) return;
  // A recorded trace (a *.trace.safetensors file or a trace folder) opens as it is: the engine checks it.
  if (isTracePath(path.resolve(target))) return inspector.open(path.resolve(target));
  // A GGUF file is its own config (llama.cpp's metadata); the engine reads and checks it.
  if (path.extname(target).toLowerCase() === '.gguf') return inspector.open(path.resolve(target));
  let configPath: string;
  try {
    configPath = findConfig(path.resolve(target)); // a folder holding one config works too
  } catch (e) {
    if (!isInspectorError(e)) throw e;
    void vscode.window.showErrorMessage(`Transformer Inspector: ${e.describe()}`);
    return;
  }
  let text: string;
  try {
    text = readTextGuarded(configPath, 'config'); // a FIFO or /dev/zero named config.json is refused here
  } catch (e) {
    if (!isInspectorError(e)) throw e;
    void vscode.window.showErrorMessage(`Transformer Inspector: ${e.describe()}`);
    return;
  }
  if (!configKind(configPath, text)) {
    void vscode.window.showErrorMessage(
      `Transformer Inspector: ${path.basename(configPath)} is not a model config: name a *.transformer.json, or a Hugging Face config.json (a JSON object with "model_type").`,
    );
    return;
  }
  const dirty = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === configPath && d.isDirty);
  if (dirty) void vscode.window.showInformationMessage(`Transformer Inspector: ${path.basename(configPath)} has unsaved changes; the inspector runs the saved file and reloads when you save.`);
  await inspector.open(configPath);
}

async function setInputCommand(inspector: Inspector, idsArg: unknown, decoderArg: unknown): Promise<void> {
  const limits = inspector.state.limits;
  if (!limits) {
    void vscode.window.showInformationMessage('Transformer Inspector: open a config with a runnable model first.');
    return;
  }
  const current = inspector.state.model;
  const encDec = limits.architecture === 'encoder-decoder';
  const tokenizer = limits.tokenizer !== undefined;
  // No length limit while parsing: an over-long input is counted and offered a truncation instead.
  const sideLimits = (vocabSize: number) => ({ vocabSize, maxLen: Number.MAX_SAFE_INTEGER, tokenizer });
  const prompt = (vocabSize: number) =>
    tokenizer
      ? `Text (tokenized with ${path.basename(limits.tokenizer ?? '')}), or token ids separated by commas (0 … ${vocabSize - 1}); this model takes at most ${limits.maxLen} tokens.`
      : `Token ids separated by commas (0 … ${vocabSize - 1}); this model takes at most ${limits.maxLen} tokens. There is no tokenizer.json beside this config, so text is not accepted.`;
  type Side = { ids: number[] } | { text: string };
  /** The ids of what was typed: as given, or through the engine's tokenizer. */
  const idsOf = async (r: Side): Promise<number[] | undefined> => ('ids' in r ? r.ids : (await inspector.tokenize(r.text))?.ids);
  const ask = async (what: string, first: string, vocabSize: number): Promise<Side | undefined> => {
    let value = first;
    for (;;) {
      const text = await vscode.window.showInputBox({
        title: `Transformer Inspector: Set ${what}`,
        prompt: prompt(vocabSize),
        value,
        ignoreFocusOut: true,
        validateInput: async (t) => {
          const r = parseInput(t, sideLimits(vocabSize));
          if ('error' in r) return r.error;
          const tokens = 'ids' in r ? r.ids.map(String) : (await inspector.tokenize(r.text))?.tokens;
          return tokens ? countMessage(tokens, limits.maxLen) : undefined;
        },
      });
      if (text === undefined) return undefined;
      const r = parseInput(text, sideLimits(vocabSize));
      if ('error' in r) return undefined;
      const ids = await idsOf(r);
      if (!ids || ids.length <= limits.maxLen) return r;
      // The offer, in the same quick input: nothing has run yet and the text is not lost.
      const choice = await vscode.window.showQuickPick(
        [
          { label: `Truncate to the first ${limits.maxLen} tokens`, description: `drops the last ${ids.length - limits.maxLen}`, cut: true },
          { label: 'Edit the input again', description: 'back to the text as typed', cut: false },
        ],
        { title: `Transformer Inspector: the input is ${ids.length} tokens; this model takes at most ${limits.maxLen}`, ignoreFocusOut: true },
      );
      if (!choice) return undefined;
      if (choice.cut) return { ids: ids.slice(0, limits.maxLen) };
      value = text; // the text is kept: back to the box
    }
  };
  const given = async (arg: unknown, vocabSize: number, what: string): Promise<Side | undefined> => {
    const r = parseInput(Array.isArray(arg) ? arg.join(',') : String(arg), sideLimits(vocabSize));
    if ('error' in r) {
      void vscode.window.showErrorMessage(`Transformer Inspector: ${what}: ${r.error}`);
      return undefined;
    }
    const ids = await idsOf(r);
    if (ids && ids.length > limits.maxLen) {
      void vscode.window.showErrorMessage(`Transformer Inspector: ${what}: ${ids.length} tokens; this model takes at most ${limits.maxLen}.`);
      return undefined;
    }
    return r;
  };
  /** The box starts with the current input: its text when it was given as text, else its ids. */
  const shown = (text: string | undefined, ids: readonly number[] | undefined) => text ?? formatIds(ids ?? []);
  const main =
    idsArg !== undefined
      ? await given(idsArg, limits.vocabSize, 'input')
      : await ask(encDec ? 'Encoder Input' : 'Input', shown(current?.text, current?.ids), limits.vocabSize);
  if (!main) return;
  const input: InputRequest = 'ids' in main ? { ids: main.ids } : { text: main.text };
  if (encDec) {
    const dec =
      idsArg !== undefined
        ? decoderArg !== undefined
          ? await given(decoderArg, limits.decoderVocabSize, 'decoder input')
          : current?.decoderIds && { ids: current.decoderIds }
        : await ask('Decoder Input', shown(current?.decoderText, current?.decoderIds), limits.decoderVocabSize);
    if (!dec) return;
    if ('ids' in dec) input.decoderIds = dec.ids;
    else input.decoderText = dec.text;
  }
  await inspector.setInput(input);
}

/** The input box's line under the text, as a warning when the input is too long. */
function countMessage(tokens: readonly string[], maxLen: number): vscode.InputBoxValidationMessage {
  const { message, over } = countLine(tokens, maxLen);
  return { message, severity: over ? vscode.InputBoxValidationSeverity.Warning : vscode.InputBoxValidationSeverity.Info };
}

async function exportCommand(inspector: Inspector, target: unknown): Promise<vscode.Uri | undefined> {
  const s = inspector.state;
  if (!s.stepName || !s.configPath) {
    void vscode.window.showInformationMessage('Transformer Inspector: step forward first; there is no current tensor to export.');
    return undefined;
  }
  let uri: vscode.Uri | undefined;
  if (target instanceof vscode.Uri) uri = target;
  else if (typeof target === 'string' && target !== '') uri = uriForPath(target);
  else {
    uri = await vscode.window.showSaveDialog({
      title: `Export ${s.stepName}`,
      saveLabel: 'Export',
      defaultUri: uriForPath(path.join(path.dirname(s.configPath), `${s.stepName}.npy`)),
      filters: { 'NumPy array': ['npy'], JSON: ['json'] },
    });
  }
  if (!uri) return undefined;
  const r = await inspector.exportTensor(uri);
  if (!r) return undefined;
  void vscode.window.showInformationMessage(`Transformer Inspector: exported ${r.name} [${r.shape.join(', ')}] to ${path.basename(uri.fsPath)}.`);
  return uri;
}
