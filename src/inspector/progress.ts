/**
 * Engine requests the user waits for: a request that takes a while gets a cancellable progress
 * notification and a busy line in the panel, with the engine's progress messages; the titles of moves.
 */
import * as vscode from 'vscode';
import type { EngineClient } from '../engine/client';
import type { Move, ReplyFor, WorkerRequest } from '../../protocol/worker';
import type { ToWebview } from '../../protocol/webview';

/** Work that takes longer than this gets a cancellable progress notification and a busy panel. */
export const PROGRESS_DELAY_MS = 400;

/** Run a request; if it takes a while, show cancellable progress (notification + busy panel). */
export async function track<Q extends WorkerRequest>(client: EngineClient, post: (msg: ToWebview) => void, title: string, request: Q): Promise<ReplyFor<Q['kind']>> {
  const started = Date.now();
  let report: ((message: string) => void) | undefined;
  const pending = client.start(request, {
    onProgress: (message, fraction) => {
      if (Date.now() - started < PROGRESS_DELAY_MS) return;
      report?.(message);
      post({ type: 'busy', message, ...(fraction !== undefined ? { progress: fraction } : {}) });
    },
  });
  let settled = false;
  const timer = setTimeout(() => {
    if (settled) return;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Transformer Inspector: ${title}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => client.cancel(pending.id));
        report = (message) => progress.report({ message });
        return pending.result.then(
          () => undefined,
          () => undefined,
        );
      },
    );
  }, PROGRESS_DELAY_MS);
  try {
    return await pending.result;
  } finally {
    settled = true;
    clearTimeout(timer);
  }
}

/** The progress title of a move. */
export function moveTitle(move: Move): string {
  switch (move.to) {
    case 'end':
      return 'Running to the end';
    case 'hook':
      return `Computing up to ${move.name}`;
    case 'module':
      return `Computing up to ${move.path}`;
    case 'index':
      return `Computing up to step ${move.index}`;
    default:
      return 'Computing';
  }
}
