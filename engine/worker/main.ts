/**
 * The engine worker (bundled as dist/worker.js): runs one Session on its own thread so the extension
 * host never waits on a forward pass. Requests arrive in order and are answered in order; between
 * steps a long request reads the shared cancel slot, where the host writes the id it wants stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isInspectorError } from '../errors';
import { Session, type Control } from './session';
import type { HostToWorker, WorkerData, WorkerToHost } from '../../protocol/worker';

const PROGRESS_INTERVAL_MS = 100;

if (!parentPort) throw new Error('dist/worker.js must run as a worker thread');
const port = parentPort;
const cancelSlot = new Int32Array((workerData as WorkerData).cancel);
const session = new Session();

function post(msg: WorkerToHost, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

port.on('message', (msg: HostToWorker) => {
  const { id, request } = msg;
  if (request.kind === 'crashForTest') process.exit(70);
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
      const err = e instanceof Error ? e : new Error(String(e));
      // An allocation failure is the likeliest "bug" a user meets: say what it means.
      const message = err instanceof RangeError && /allocation|array buffer|Array length/i.test(err.message)
        ? `the model is too large to build in memory (${err.message})`
        : err.message;
      post({ kind: 'failure', id, failure: { message, user: err instanceof RangeError, stack: err.stack } });
    }
  }
});
