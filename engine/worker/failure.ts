import type { WorkerFailure, WorkerRequest } from '../../protocol/worker';
import { truncate } from '../io/patterns';

/** Exit codes of the engine process that name why it ended. */
export const ENGINE_EXIT = { crashForTest: 70, outOfMemory: 71, threadDied: 72, notForked: 73, tokenizerTimeLimit: 74 } as const;

/** Messages of the allocation failures V8 throws as RangeError: the machine's memory, not a bug. */
const ALLOCATION = /allocation failed|array buffer allocation|invalid array length|invalid typed array length|Array length|ERR_OUT_OF_RANGE|out of memory/i;

/**
 * A failure that is not an InspectorError, as the host should see it. An allocation failure is a
 * resource limit (a user-facing error naming the request and what to change); anything else is an
 * engine bug: its message names the request that failed and the stack goes to the host's log.
 */
export function userFacingFailure(e: unknown, request: WorkerRequest['kind']): WorkerFailure {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as Error & { code?: string }).code;
  if ((err instanceof RangeError && ALLOCATION.test(err.message)) || code === 'ERR_OUT_OF_RANGE' || code === 'ERR_BUFFER_TOO_LARGE') {
    return {
      message: `out of memory during '${request}' (${truncate(err.message)}): the model or input is too large for the engine's memory; use a shorter input or a smaller model`,
      user: true,
      stack: err.stack,
    };
  }
  return { message: `internal error during '${request}': ${truncate(err.message)} (please report; the stack is in the log)`, user: false, stack: err.stack };
}
