/**
 * The engine process (bundled as dist/worker.js), forked and supervised by the extension host's
 * EngineClient. Two roles in one bundle:
 *
 * - the process's main thread: the relay. It speaks to the host over the IPC channel (advanced
 *   serialization, so typed arrays cross), starts the session thread with a heap limit, forwards
 *   requests to it and its replies back, writes cancel requests into the shared slot, and ends the
 *   process with a code that names the reason when the session thread dies (out of memory, crash);
 * - the session thread: one Session answering requests in order, synchronously; between steps a long
 *   request reads the cancel slot.
 *
 * A crash, an abort or an out-of-memory here ends this process only; the host reports it and forks
 * a new one.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { isInspectorError } from '../errors';
import { Session, type Control } from './session';
import type { CancelMessage, EngineData, HostToWorker, WorkerToHost } from '../../protocol/worker';
import { ENGINE_EXIT, userFacingFailure } from './failure';
import { defaultMemoryBudget } from '../model/memory-budget';
import { watchTokenizer } from '../io/patterns';

const PROGRESS_INTERVAL_MS = 100;

/** Session thread → relay only: a tokenization started (the relay arms its watchdog) or ended. */
type TokenizerWatchMessage = { kind: 'watch'; id: number; limitMs: number; file: string } | { kind: 'watchEnd' };

if (isMainThread) runRelay();
else runSession();

function runRelay(): void {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('dist/worker.js is the engine process: the extension host forks it (with an IPC channel)\n');
    process.exit(ENGINE_EXIT.notForked);
  }
  // The host's setting, else the automatic budget for this machine (engine/model/memory-budget.ts).
  const memoryBudget = Number(process.env.TI_MEMORY_BUDGET) > 0 ? Number(process.env.TI_MEMORY_BUDGET) : defaultMemoryBudget();
  const heapMb = Number(process.env.TI_HEAP_MB) > 0 ? Number(process.env.TI_HEAP_MB) : undefined;
  const cancel = new SharedArrayBuffer(4);
  const slot = new Int32Array(cancel);
  const data: EngineData = { cancel, memoryBudget };
  const thread = new Worker(__filename, { workerData: data, ...(heapMb ? { resourceLimits: { maxOldGenerationSizeMb: heapMb } } : {}) });
  // The tokenizer watchdog: JavaScript cannot interrupt a regular expression, but ending the thread can.
  let watchdog: NodeJS.Timeout | undefined;
  let ending = false; // the watchdog is ending the process with its own exit code
  thread.on('message', (msg: WorkerToHost | TokenizerWatchMessage) => {
    if (msg.kind === 'watch') {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        process.stderr.write(`tokenizer time limit (${msg.limitMs} ms) passed in request ${msg.id}: ending the engine process\n`);
        ending = true;
        void thread.terminate();
        const failure = {
          message: `tokenizing took longer than ${msg.limitMs} ms and was stopped: the tokenizer's patterns are too slow for this text (the engine was restarted)`,
          user: true,
          place: { file: msg.file },
        };
        send({ kind: 'failure', id: msg.id, failure } satisfies WorkerToHost, () => process.exit(ENGINE_EXIT.tokenizerTimeLimit));
        setTimeout(() => process.exit(ENGINE_EXIT.tokenizerTimeLimit), 1000).unref();
      }, msg.limitMs);
      return;
    }
    if (msg.kind === 'watchEnd') {
      clearTimeout(watchdog);
      return;
    }
    send(msg);
  });
  thread.on('error', (e: Error & { code?: string }) => {
    const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
    process.stderr.write(`engine thread failed: ${e.stack ?? e.message}\n`);
    process.exit(oom ? ENGINE_EXIT.outOfMemory : ENGINE_EXIT.threadDied);
  });
  thread.on('exit', (code) => {
    if (!ending) process.exit(code === 0 ? ENGINE_EXIT.threadDied : code);
  });
  process.on('message', (msg: HostToWorker | CancelMessage) => {
    if ('kind' in msg && msg.kind === 'cancel') Atomics.store(slot, 0, msg.id);
    else thread.postMessage(msg);
  });
  // The host went away (closed, crashed): no engine is left behind.
  process.on('disconnect', () => process.exit(0));
}

function runSession(): void {
  const port = parentPort;
  if (!port) return;
  const data = workerData as EngineData;
  const cancelSlot = new Int32Array(data.cancel);
  const session = new Session({ memoryBudget: data.memoryBudget });
  const post = (msg: WorkerToHost | TokenizerWatchMessage, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  let current = 0;
  watchTokenizer({
    start: (limitMs, file) => post({ kind: 'watch', id: current, limitMs, file }),
    end: () => post({ kind: 'watchEnd' }),
  });

  port.on('message', (msg: HostToWorker) => {
    const { id, request } = msg;
    current = id;
    if (request.kind === 'crashForTest') process.exit(ENGINE_EXIT.crashForTest);
    let lastProgress = 0;
    const control: Control = {
      cancelled: () => Atomics.load(cancelSlot, 0) === id,
      progress: (message, fraction) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        post({ kind: 'progress', id, message, ...(fraction !== undefined ? { fraction } : {}) });
      },
    };
    try {
      const { reply, transfer } = session.handle(request, control);
      post({ kind: 'reply', id, reply }, transfer);
    } catch (e) {
      if (isInspectorError(e)) {
        post({ kind: 'failure', id, failure: { message: e.message, user: true, place: e.place } });
      } else {
        post({ kind: 'failure', id, failure: userFacingFailure(e, request.kind) });
      }
    }
  });
}
