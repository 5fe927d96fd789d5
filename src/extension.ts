import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineClient, engineMemoryOptions } from './engine/client';
import { Inspector, type InspectorState } from './inspector/inspector';
import { registerCommands } from './inspector/commands';
import { registerQuantizeCommand } from './quantize/command';
import { GgufEditorProvider, type GgufShown } from './gguf/editor';
import { ModelTreeProvider } from './sidebar/modelTree';
import { registerConfigFeatures, type ConfigFeatures } from './config/features';
import { createLog } from './log';
import { COMMAND, ENV_OPEN, ENV_THREADS, SETTING, VIEW_TYPE } from './ids';
import { parseFromWebview, type PanelState, type ToWebview } from '../protocol/webview';
import type { ModelNode } from '../protocol/tree';

/**
 * What `activate` returns: used by the tests inside VS Code to drive the panel without a visible
 * webview, and to read what the host did. Not a public API.
 */
export interface TestApi {
  panel: {
    /** Deliver a message as if the webview had posted it (validated the same way); resolves when handled. */
    postMessageForTest(msg: unknown): Promise<void>;
    /** Messages the host posted to the webview, oldest first (at most the last 200). */
    readonly lastMessages: readonly ToWebview[];
    readonly isOpen: boolean;
    /** What VS Code calls after a window reload: the registered serializer, with a panel and its saved state. */
    deserializeForTest(panel: vscode.WebviewPanel, state: unknown): Promise<void>;
  };
  inspector: {
    readonly state: InspectorState;
    /** Resolves when queued operations have finished. */
    idle(): Promise<void>;
  };
  tree: { readonly currentNode: ModelNode | undefined };
  engine: {
    /** Make the worker exit abruptly, to test that a crash is reported and recovered from. */
    crashForTest(): Promise<unknown>;
  };
  config: ConfigFeatures;
  /** What each opened `.gguf` view showed, by file path. */
  gguf: { readonly shown: ReadonlyMap<string, GgufShown> };
}

export function activate(context: vscode.ExtensionContext): TestApi {
  // Nothing heavy here: the worker starts on the first request, the model loads on "Open Inspector".
  const log = createLog();
  applyThreadsSetting();
  // The engine runs in its own process: a crash or an out-of-memory there cannot take the host down.
  // The memory budget setting: 0 or absent = automatic, from this machine's memory.
  const budgetMb = vscode.workspace.getConfiguration(SETTING.section).get<number>(SETTING.memoryBudget);
  const client = new EngineClient(path.join(context.extensionPath, 'dist', 'worker.js'), (line) => log.info(line), engineMemoryOptions(budgetMb));
  const inspector = new Inspector(context.extensionUri, client, log, context.workspaceState);
  const tree = new ModelTreeProvider(inspector);
  const config = registerConfigFeatures(context, log);
  const gguf = GgufEditorProvider.register(context.extensionPath, log);
  const serializer: vscode.WebviewPanelSerializer = {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
      const parsed = parseFromWebview({ type: 'ready', state: state ?? undefined });
      const restored: PanelState | undefined = parsed?.type === 'ready' ? parsed.state : undefined;
      if (state && !restored) log.warn('ignored a malformed saved panel state');
      await inspector.adoptPanel(panel, restored);
    },
  };
  context.subscriptions.push(
    log,
    { dispose: () => client.dispose() },
    inspector,
    tree,
    ...registerCommands(inspector),
    registerQuantizeCommand(inspector),
    gguf.disposable,
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, serializer),
  );
  openOnStartup(log);

  return {
    panel: {
      postMessageForTest: async (msg) => {
        const panel = inspector.currentPanel;
        if (!panel) throw new Error('the inspector panel is not open');
        await panel.receive(msg);
      },
      get lastMessages() {
        return inspector.currentPanel?.sent ?? [];
      },
      get isOpen() {
        return inspector.currentPanel !== undefined;
      },
      deserializeForTest: (panel, state) => Promise.resolve(serializer.deserializeWebviewPanel(panel, state)),
    },
    inspector: {
      get state() {
        return inspector.state;
      },
      idle: () => inspector.idle(),
    },
    tree: {
      get currentNode() {
        return tree.currentNode;
      },
    },
    engine: { crashForTest: () => client.request({ kind: 'crashForTest' }).catch((e: unknown) => e) },
    config,
    gguf: { shown: gguf.provider.shown },
  };
}

export function deactivate(): void {}

/**
 * The `threads` setting, handed to the engine through its environment (inherited by the engine worker
 * or process when it starts); 0 or unset leaves the engine's default, the available parallelism.
 */
function applyThreadsSetting(): void {
  const n = vscode.workspace.getConfiguration(SETTING.section).get<number>(SETTING.threads) ?? 0;
  if (Number.isInteger(n) && n > 0) process.env[ENV_THREADS] = String(n);
}

/** `TRANSFORMER_INSPECTOR_OPEN` (or the `openOnStartup` setting): a config to open right away. */
function openOnStartup(log: vscode.LogOutputChannel): void {
  const fromEnv = process.env[ENV_OPEN];
  const fromSetting = vscode.workspace.getConfiguration(SETTING.section).get<string>(SETTING.openOnStartup);
  const raw = fromEnv || fromSetting;
  if (!raw) return;
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const target = path.resolve(base, raw);
  log.info(`opening ${target} on startup (${fromEnv ? `$${ENV_OPEN}` : `setting ${SETTING.section}.${SETTING.openOnStartup}`})`);
  // After activation returns, so activation itself stays light.
  setTimeout(() => void vscode.commands.executeCommand(COMMAND.open, target), 0);
}
