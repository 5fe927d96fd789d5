/**
 * Messages from the webview (already checked by protocol/webview.ts's parseFromWebview in the panel),
 * routed by type to what the inspector does for each. The webview is the less trusted side: it names
 * steps, heads and tabs, never a path the host did not open itself (see `ready`).
 */
import * as vscode from 'vscode';
import { COMMAND } from '../ids';
import type { AblationSetMessage, FromWebview, PanelState, PanelTab } from '../../protocol/webview';
import type { Move } from '../../protocol/worker';

/** A message of type `T` from the webview. */
export type WebviewMessage<T extends FromWebview['type']> = Extract<FromWebview, { type: T }>;

/** What the router asks of the inspector (src/inspector/inspector.ts), one method per kind of message. */
export interface WebviewRoutes {
  /** The webview (re)loaded: show it everything again, or reopen the config its saved state names. */
  webviewReady(state: PanelState | undefined): Promise<void>;
  move(move: Move): Promise<void>;
  generate(what: { position: number }): Promise<void>;
  requestOverview(): Promise<void>;
  requestAnalysis(msg: WebviewMessage<'analyse'>): Promise<void>;
  saveAnalysis(analysis: string, format: 'svg' | 'png' | 'npy' | 'json'): Promise<unknown>;
  requestAttentionWindow(msg: WebviewMessage<'requestAttentionWindow'>): Promise<void>;
  selectHead(head: number): Promise<void>;
  selectTab(tab: PanelTab): Promise<void>;
  closeComparison(): void;
  openPatchedStep(row: number, col: number): Promise<void>;
  unpatch(): Promise<void>;
  replaceAblation(choice: AblationSetMessage): void;
}

export async function routeWebviewMessage(inspector: WebviewRoutes, msg: FromWebview): Promise<void> {
  switch (msg.type) {
    case 'ready':
      return inspector.webviewReady(msg.state);
    case 'command':
      await vscode.commands.executeCommand(COMMAND[msg.command]);
      return;
    case 'goToStep':
      return inspector.move({ to: 'index', index: msg.index });
    case 'goToHook':
      return inspector.move({ to: 'hook', name: msg.name });
    case 'requestOverview':
      return inspector.requestOverview();
    case 'showGenerated':
      return inspector.generate({ position: msg.position });
    case 'analyse':
      return inspector.requestAnalysis(msg);
    case 'exportAnalysis':
      await inspector.saveAnalysis(msg.analysis, msg.format);
      return;
    case 'requestAttentionWindow':
      return inspector.requestAttentionWindow(msg);
    case 'selectHead':
      return inspector.selectHead(msg.head);
    case 'showTab':
      return inspector.selectTab(msg.tab);
    case 'closeComparison':
      inspector.closeComparison();
      return;
    case 'openPatchedStep':
      return inspector.openPatchedStep(msg.row, msg.col);
    case 'unpatch':
      return inspector.unpatch();
    case 'ablationSet':
      inspector.replaceAblation(msg);
      return;
  }
}
