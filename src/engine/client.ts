import { fork, type ChildProcess } from 'node:child_process';
import { ENGINE_EXIT } from '../../engine/worker/failure';
import { relaxedSimdExecArgv } from '../../engine/kernels/simd';
import { budgetFromMb, defaultMemoryBudget } from '../../engine/model/memory-budget';
import type {
  CancelMessage,
  HostToWorker,
  ReplyFor,
  WorkerFailure,
  WorkerReply,
  WorkerRequest,
  WorkerToHost,
} from '../../protocol/worker';

/**
 * The extension host's side of the engine process (dist/worker.js, forked with a V8 heap limit and a
 * memory budget). Sends typed requests over the IPC channel (advanced serialization: typed arrays
 * cross), resolves each with its reply, forwards progress, cancels (a cancel message the engine
 * relays into the slot its session thread reads between steps; if it does not stop in time, the
 * process is killed and restarted), and restarts the process after a crash, an abort or an
 * out-of-memory: none of them can take the extension host down. No `vscode` here, so it can be
 * tested in plain Node.
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

/** How long a cancelled request may keep running before the engine process is killed. */
export const CANCEL_GRACE_MS = 1500;

/** The engine process's V8 heap limit when none is given (MB): its typed arrays live outside it. */
export const DEFAULT_HEAP_MB = 2048;

export interface EngineOptions {
  /** V8 heap limit of the engine process and its session thread (MB). */
  heapMb?: number;
  /** Bytes a forward pass's trace and views may hold; larger inputs are refused with the numbers. */
  memoryBudget?: number;
}

/**
 * The engine's options for the `transformerInspector.memoryBudgetMB` setting: that many MB (at least 16),
 * or — 0 or absent — the automatic budget for this machine (engine/model/memory-budget.ts; `automatic`
 * is given by tests). The V8 heap limit is twice the budget, at least 512 MB.
 */
export function engineMemoryOptions(settingMb: number | undefined, automatic: () => number = defaultMemoryBudget): Required<EngineOptions> {
  const memoryBudget = budgetFromMb(settingMb, 16, automatic);
  return { memoryBudget, heapMb: Math.max(512, Math.ceil((2 * memoryBudget) / 2 ** 20)) };
}

/** Lines of the engine's stderr kept to explain a crash. */
const STDERR_TAIL = 20;

export class EngineClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Processes we ended on purpose: their exit is not a crash. */
  private readonly retiring = new WeakSet<ChildProcess>();
  private readonly restartListeners = new Set<(reason: EngineErrorKind, message: string) => void>();
  private disposed = false;
  private stderrTail: string[] = [];

  constructor(
    private readonly enginePath: string,
    private readonly log: (line: string) => void = () => {},
    private readonly options: EngineOptions = {},
  ) {}

  /** Called after the engine was replaced (crash or forced cancel): whatever it held is gone. */
  onRestart(listener: (reason: EngineErrorKind, message: string) => void): { dispose(): void } {
    this.restartListeners.add(listener);
    return { dispose: () => this.restartListeners.delete(listener) };
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** The engine process's id, while one runs (for tests and the log). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  request<Q extends WorkerRequest>(request: Q, opts: RequestOptions = {}): Promise<ReplyFor<Q['kind']>> {
    return this.start(request, opts).result;
  }

  /** Like `request`, but also gives the id to pass to `cancel`. */
  start<Q extends WorkerRequest>(request: Q, opts: RequestOptions = {}): PendingRequest<ReplyFor<Q['kind']>> {
    if (this.disposed) throw new Error('the engine client is disposed');
    const id = this.nextId++;
    const child = this.ensureEngine();
    const result = new Promise<ReplyFor<Q['kind']>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: WorkerReply) => void, reject, onProgress: opts.onProgress, kind: request.kind });
    });
    const msg: HostToWorker = { id, request };
    this.sendTo(child, msg);
    return { id, result };
  }

  /**
   * Ask the engine to stop request `id` at the next step boundary. If it is still running after
   * CANCEL_GRACE_MS, kill the process (SIGKILL): every pending request fails as cancelled and the
   * restart listeners hear about it.
   */
  cancel(id: number): void {
    if (!this.pending.has(id)) return;
    this.log(`cancel request ${id}`);
    if (this.child) this.sendTo(this.child, { kind: 'cancel', id } satisfies CancelMessage);
    const timer = setTimeout(() => {
      if (this.pending.has(id)) this.replaceEngine('cancelled', `request ${id} did not stop within ${CANCEL_GRACE_MS} ms: the engine was restarted`);
    }, CANCEL_GRACE_MS);
    timer.unref?.();
  }

  dispose(): void {
    this.disposed = true;
    this.rejectAll(new EngineError('the engine was shut down', 'cancelled'));
    if (this.child) {
      this.retiring.add(this.child);
      this.child.kill('SIGKILL');
      this.child = undefined;
    }
  }

  private sendTo(child: ChildProcess, msg: HostToWorker | CancelMessage): void {
    if (!child.connected) return; // it is exiting: its 'exit' rejects what is pending
    child.send(msg, (e) => {
      if (e && !this.retiring.has(child)) this.log(`could not send to the engine: ${e.message}`);
    });
  }

  private ensureEngine(): ChildProcess {
    if (this.child) return this.child;
    const heapMb = this.options.heapMb ?? DEFAULT_HEAP_MB;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Inside VS Code, execPath is the editor's Electron binary: run it as plain Node.
      ELECTRON_RUN_AS_NODE: '1',
      TI_HEAP_MB: String(heapMb),
      ...(this.options.memoryBudget ? { TI_MEMORY_BUDGET: String(this.options.memoryBudget) } : {}),
    };
    this.stderrTail = [];
    const child = fork(this.enginePath, [], {
      serialization: 'advanced',
      // Relaxed SIMD for the kernels, when this runtime needs the V8 flag for it (Node 20; Electron has it on).
      execArgv: [`--max-old-space-size=${heapMb}`, ...relaxedSimdExecArgv()],
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.log(`engine worker started (process ${child.pid ?? '?'}, heap limit ${heapMb} MB)`);
    child.stdout?.on('data', (d: Buffer) => this.log(`engine: ${d.toString().trimEnd()}`));
    child.stderr?.on('data', (d: Buffer) => {
      const lines = d.toString().trimEnd().split('\n');
      for (const l of lines) this.log(`engine stderr: ${l}`);
      this.stderrTail = [...this.stderrTail, ...lines].slice(-STDERR_TAIL);
    });
    child.on('message', (msg: WorkerToHost) => this.onMessage(msg));
    child.on('error', (e) => {
      if (this.retiring.has(child)) return;
      this.log(`engine process error: ${e.stack ?? e.message}`);
      this.onEngineDied(child, `the engine stopped unexpectedly: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      if (this.retiring.has(child)) return;
      this.log(`engine process exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
      this.onEngineDied(child, exitMessage(code, signal, heapMb));
    });
    this.child = child;
    return child;
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

  private onEngineDied(child: ChildProcess, message: string): void {
    if (this.child !== child) return;
    this.retiring.add(child);
    this.child = undefined; // the next request forks a fresh engine
    this.rejectAll(new EngineError(message, 'crash'));
    for (const l of this.restartListeners) l('crash', message);
  }

  private replaceEngine(reason: EngineErrorKind, message: string): void {
    const child = this.child;
    if (child) {
      this.retiring.add(child);
      child.kill('SIGKILL');
      this.child = undefined;
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

/** Why the engine process ended, as the user should read it. */
export function exitMessage(code: number | null, signal: NodeJS.Signals | null, heapMb: number): string {
  if (code === ENGINE_EXIT.outOfMemory || signal === 'SIGABRT' || code === 134) {
    return `the engine ran out of memory (heap limit ${heapMb} MB) and was restarted: use a shorter input or a smaller model`;
  }
  if (code === ENGINE_EXIT.tokenizerTimeLimit) return 'the tokenizer ran past its time limit: the engine was restarted';
  if (signal) return `the engine stopped unexpectedly (signal ${signal}) and was restarted`;
  return `the engine stopped unexpectedly (exit code ${code}) and was restarted`;
}
