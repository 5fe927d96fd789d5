import * as vscode from 'vscode';
import { OUTPUT_CHANNEL } from './ids';

/** The "Transformer Inspector" output channel: dropped webview messages, engine errors, restarts. */
export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel(OUTPUT_CHANNEL, { log: true });
}
