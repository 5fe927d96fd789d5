/**
 * Failures the inspector shows: an engine error becomes a message and where it happened (the config,
 * the key, the tensor), logged by kind (a user's mistake as info, an engine bug as an error with a
 * notification); an engine restart is announced with a way to load the model again.
 */
import * as vscode from 'vscode';
import { EngineError } from '../engine/client';
import type { Log } from '../log';

/** What the panel shows of the last failure. */
export interface Failure {
  message: string;
  where?: string;
}

/**
 * The failure of `e`, logged. `what` names the operation or the config; an error that is no
 * EngineError is an internal error (a host bug).
 */
export function failureOf(e: unknown, what: string | undefined, log: Log): Failure {
  if (!(e instanceof EngineError)) {
    log.error(`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return { message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
  const where = [what, e.failure?.place?.key && `key '${e.failure.place.key}'`, e.failure?.place?.tensor && `tensor '${e.failure.place.tensor}'`]
    .filter(Boolean)
    .join(', ');
  switch (e.kind) {
    case 'user':
      log.info(`${where}: ${e.message}`);
      break;
    case 'bug':
      log.error(`engine error: ${e.failure?.stack ?? e.message}`);
      void vscode.window.showErrorMessage(`Transformer Inspector: ${e.message}`, 'Show Log').then((b) => b && log.show());
      break;
    case 'crash':
    case 'cancelled':
      break; // reported by announceRestart
  }
  return { message: e.message, ...(where ? { where } : {}) };
}

/** The engine process was restarted: after a crash offer to load the model again now; else say it was cancelled. */
export function announceRestart(reason: 'user' | 'bug' | 'crash' | 'cancelled', message: string, log: Log, reloadNow: () => void): void {
  if (reason === 'crash') {
    void vscode.window
      .showErrorMessage(`Transformer Inspector: ${message}. The engine was restarted; the model is loaded again on the next step.`, 'Reload Now', 'Show Log')
      .then((b) => {
        if (b === 'Reload Now') reloadNow();
        if (b === 'Show Log') log.show();
      });
  } else {
    void vscode.window.showInformationMessage('Transformer Inspector: cancelled. The engine was restarted; the model is loaded again on the next step.');
  }
}
