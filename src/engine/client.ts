import { Worker } from 'node:worker_threads';
import type {
  Exported,
  HostToWorker,
  Loaded,
  Moved,
  Params,
  WorkerData,
  WorkerFailure,
  WorkerReply,
  WorkerRequest,
  WorkerToHost,
} from '../../engine/worker/messages';
import type { AnalysisReply } from '../../engine/analyses/views';

/**
 * The extension host's side of the engine worker (dist/worker.js). Sends typed requests, resolves
 * each with its reply, forwards progress, cancels (a request id written into a shared slot the
 * worker reads between steps; if the worker does not stop in time, it is terminated and restarted),
 * and restarts the worker after a crash. No `vscode` here, so it can be tested in plain Node.
 */

export type EngineErrorKind =
  /** A mistake in the config, weights or input (InspectorError in the engine). */
  | 'user'
  /** A bug in the engine: an unexpected exception. */
  | 'bug'
  /** The worker died; it has been restarted, and the model must be loaded again. */
  | 'crash'
  /** The request was cancelled by terminating the worker; the model must be loaded again. */
  | 'cancelled';

export class EngineError extends Error {
  constructor(
    message: string,
    readonly kind: EngineErrorKind,
    readonly failure?: WorkerFailure,
  ) {
    super(message);
    this.name = 'EngineError';
  }

  /** The message with the place it was found (file, key, tensor), as the user should read it. */
  describe(): string {
    const p = this.failure?.place;
    const where = [p?.key && `key '${p.key}'`, p?.tensor && `tensor '${p.tensor}'`].filter(Boolean).join(', ');
    return where ? `${where}: ${this.message}` : this.message;
  }
}

type ReplyFor<K extends WorkerRequest['kind']> = K extends 'load' | 'setInput'
  ? Loaded
  : K extends 'move'
    ? Moved
    : K extends 'export'
      ? Exported
      : K extends 'params'
        ? Params
        : K extends 'analyse'
          ? AnalysisReply
          : never;

export interface RequestOptions {
  onProgress?: (message: string, fraction?: number) => void;
}

/** A request in flight: its id (for cancel) and its result. */
export interface PendingRequest<T> {
  id: number;
  result: Promise<T>;
}

interface Pending {
  resolve(reply: WorkerReply): void;
  reject(e: Error): void;
  onProgress?: RequestOptions['onProgress'];
  kind: WorkerRequest['kind'];
}

/** How long a cancelled request may keep running before the worker is terminated. */
export const CANCEL_GRACE_MS = 1500;

export class EngineClient {
  private worker: Worker | undefined;
  private cancelSlot = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Workers we terminated on purpose: their exit is not a crash. */
  private readonly retiring = new WeakSet<Worker>();
  private readonly restartListeners = new Set<(reason: EngineErrorKind, message: string) => void>();
  private disposed = false;

  constructor(
    private readonly workerPath: string,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Called after the worker was replaced (crash or forced cancel): whatever it held is gone. */
  onRestart(listener: (reason: EngineErrorKind, message: string) => void): { dispose(): void } {
    this.restartListeners.add(listener);
    return { dispose: () => this.restartListeners.delete(listener) };
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  request<Q extends WorkerRequest>(request: Q, opts: RequestOptions = {}): Promise<ReplyFor<Q['kind']>> {
    return this.start(request, opts).result;
  }

  /** Like `request`, but also gives the id to pass to `cancel`. */
  start<Q extends WorkerRequest>(request: Q, opts: RequestOptions = {}): PendingRequest<ReplyFor<Q['kind']>> {
    if (this.disposed) throw new Error('the engine client is disposed');
    const id = this.nextId++;
    const worker = this.ensureWorker();
    const result = new Promise<ReplyFor<Q['kind']>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: WorkerReply) => void, reject, onProgress: opts.onProgress, kind: request.kind });
    });
    const msg: HostToWorker = { id, request };
    worker.postMessage(msg);
    return { id, result };
  }

  /**
   * Ask the worker to stop request `id` at the next step boundary. If it is still running after
   * CANCEL_GRACE_MS, terminate the worker: every pending request fails as cancelled and the
   * restart listeners hear about it.
   */
  cancel(id: number): void {
    if (!this.pending.has(id)) return;
    this.log(`cancel request ${id}`);
    Atomics.store(this.cancelSlot, 0, id);
    const timer = setTimeout(() => {
      if (this.pending.has(id)) this.replaceWorker('cancelled', `request ${id} did not stop within ${CANCEL_GRACE_MS} ms: the engine was restarted`);
    }, CANCEL_GRACE_MS);
    timer.unref?.();
  }

  dispose(): void {
    this.disposed = true;
    this.rejectAll(new EngineError('the engine was shut down', 'cancelled'));
    if (this.worker) {
      this.retiring.add(this.worker);
      void this.worker.terminate();
      this.worker = undefined;
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    this.cancelSlot = new Int32Array(new SharedArrayBuffer(4));
    const data: WorkerData = { cancel: this.cancelSlot.buffer as SharedArrayBuffer };
    const w = new Worker(this.workerPath, { workerData: data });
    this.log(`engine worker started (thread ${w.threadId})`);
    w.on('message', (msg: WorkerToHost) => this.onMessage(msg));
    w.on('error', (e) => {
      if (this.retiring.has(w)) return;
      this.log(`engine worker error: ${e.stack ?? e.message}`);
      this.onWorkerDied(w, `the engine stopped unexpectedly: ${e.message}`);
    });
    w.on('exit', (code) => {
      if (this.retiring.has(w)) return;
      this.log(`engine worker exited with code ${code}`);
      this.onWorkerDied(w, `the engine stopped unexpectedly (exit code ${code})`);
    });
    this.worker = w;
    return w;
  }

  private onMessage(msg: WorkerToHost): void {
    const p = this.pending.get(msg.id);
    if (!p) return; // a reply to a request that was already given up on
    switch (msg.kind) {
      case 'progress':
        p.onProgress?.(msg.message, msg.fraction);
        return;
      case 'reply':
        this.pending.delete(msg.id);
        p.resolve(msg.reply);
        return;
      case 'failure':
        this.pending.delete(msg.id);
        if (!msg.failure.user) this.log(`engine error in '${p.kind}': ${msg.failure.stack ?? msg.failure.message}`);
        p.reject(new EngineError(msg.failure.message, msg.failure.user ? 'user' : 'bug', msg.failure));
        return;
    }
  }

  private onWorkerDied(w: Worker, message: string): void {
    if (this.worker !== w) return;
    this.retiring.add(w);
    this.worker = undefined; // the next request starts a fresh worker
    this.rejectAll(new EngineError(message, 'crash'));
    for (const l of this.restartListeners) l('crash', message);
  }

  private replaceWorker(reason: EngineErrorKind, message: string): void {
    const w = this.worker;
    if (w) {
      this.retiring.add(w);
      void w.terminate();
      this.worker = undefined;
    }
    this.log(message);
    this.rejectAll(new EngineError(message, reason));
    for (const l of this.restartListeners) l(reason, message);
  }

  private rejectAll(e: EngineError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }
}
