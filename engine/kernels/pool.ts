import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/**
 * A pool of kernel threads (worker_threads) that share one WebAssembly.Memory with the calling thread.
 * A task is one exported kernel function, its leading arguments, and `items` (panels, tiles, heads)
 * split into chunks; every thread, the caller included, claims chunks from one atomic counter and calls
 * `fn(...args, lo, hi, slot)` on its share (slot: 0 for the caller, 1… for helpers, for per-thread scratch). The caller blocks (Atomics.wait) until every chunk is done, so the
 * engine's synchronous forward pass stays synchronous. A thread that throws (a trap, an abort) reports
 * its error, the task fails with it, and the thread is replaced.
 */

// Control words (Int32Array over a SharedArrayBuffer).
const GEN = 0; // bumped once per task: sleeping threads wait on it
const NEXT = 1; // next chunk to claim (CLOSED while the caller writes a task)
const DONE = 2; // chunks finished
const TOTAL = 3; // chunks in this task
const OP = 4; // index into the op table
const NARGS = 5;
const FAILED = 6; // 1 + index of a thread that failed, 0 if none
const ITEMS = 7;
const CHUNK = 8;
const READY = 9; // threads that have instantiated the module
const STOP = 10;
const WORKED = 16; // WORKED + i: chunks helper i has run (evidence that the threads take part)
const MAX_HELPERS = 240;
const CONTROL_WORDS = WORKED + MAX_HELPERS;
const MAX_ARGS = 24;
const CLOSED = 1 << 30;
/**
 * Polls of a control word before sleeping in Atomics.wait (a few tens of µs): a forward pass issues
 * ~170 pool tasks back to back, and a futex wake-up costs each of them tens of µs on both sides.
 */
export const SPIN_POLLS = 20_000;
/** Chunks per thread a task is cut into: small enough that a thread delayed (woken late, or preempted) leaves little to wait for. */
const CHUNKS_PER_THREAD = 4;

/** The helper thread's whole program (plain JS, run with `eval`, so it needs no bundled file). */
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, args, ops, index, port } = workerData;
const ctl = new Int32Array(control);
const arg = new Float64Array(args);
const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('kernel abort'); } } });
const fns = ops.map((n) => instance.exports[n]);
let gen = Atomics.load(ctl, ${GEN});
Atomics.add(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
for (;;) {
  for (let s = 0; s < ${SPIN_POLLS} && Atomics.load(ctl, ${GEN}) === gen; s++);
  Atomics.wait(ctl, ${GEN}, gen);
  gen = Atomics.load(ctl, ${GEN});
  if (Atomics.load(ctl, ${STOP})) break;
  const crashTest = ops[ctl[${OP}]] === '__crash_for_test';
  for (;;) {
    if (crashTest && index !== 0) break;
    const c = Atomics.add(ctl, ${NEXT}, 1);
    const total = Atomics.load(ctl, ${TOTAL});
    if (c >= total) break;
    const items = ctl[${ITEMS}], chunk = ctl[${CHUNK}], n = ctl[${NARGS}];
    const a = new Array(n + 3);
    for (let i = 0; i < n; i++) a[i] = arg[i];
    a[n] = c * chunk;
    a[n + 1] = Math.min(items, (c + 1) * chunk);
    a[n + 2] = index + 1; // this thread's scratch slot (the caller's is 0)
    try {
      if (crashTest) throw new Error('deliberate crash (test)');
      fns[ctl[${OP}]](...a);
    } catch (e) {
      port.postMessage(String((e && e.stack) || e));
      Atomics.store(ctl, ${FAILED}, index + 1);
      if (Atomics.add(ctl, ${DONE}, 1) + 1 === total) Atomics.notify(ctl, ${DONE});
      throw e;
    }
    Atomics.add(ctl, ${WORKED} + index, 1);
    if (Atomics.add(ctl, ${DONE}, 1) + 1 === total) Atomics.notify(ctl, ${DONE});
  }
}
`;

interface Helper {
  worker: Worker;
  port: MessagePort;
}

export class ThreadPool {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly arg = new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8));
  private readonly helpers: Helper[] = [];
  private readonly opIndex: Map<string, number>;
  private readonly fns: ((...a: number[]) => void)[];
  /** Failures seen so far (each one replaced its thread). */
  failures = 0;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    /** The caller's own instance: it works on chunks too. */
    exports: Record<string, unknown>,
    private readonly ops: readonly string[],
    /** Total threads including the caller. */
    threads: number,
  ) {
    this.opIndex = new Map(ops.map((o, i) => [o, i]));
    this.fns = ops.map((o) => (o === '__crash_for_test' ? () => {} : (exports[o] as (...a: number[]) => void)));
    this.resize(threads);
  }

  /** Threads including the caller. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Grow or shrink to `threads` in all (the caller counts as one). */
  resize(threads: number): void {
    const want = Math.min(MAX_HELPERS, Math.max(1, Math.floor(threads)) - 1);
    while (this.helpers.length > want) {
      const h = this.helpers.pop()!;
      void h.worker.terminate();
      h.port.close();
      Atomics.sub(this.ctl, READY, 1);
    }
    while (this.helpers.length < want) this.helpers.push(this.spawn(this.helpers.length));
  }

  private spawn(index: number): Helper {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { module: this.module, memory: this.memory, control: this.ctl.buffer, args: this.arg.buffer, ops: this.ops, index, port: port2 },
      transferList: [port2],
    });
    worker.unref();
    worker.on('error', () => {}); // reported synchronously through the port; the pool replaces it
    return { worker, port: port1 };
  }

  /** Block until every helper has instantiated the module (or `ms` passed); returns how many are ready. */
  waitReady(ms = 10_000): number {
    const until = performance.now() + ms;
    for (;;) {
      const r = Atomics.load(this.ctl, READY);
      if (r >= this.helpers.length || performance.now() > until) return r;
      Atomics.wait(this.ctl, READY, r, 50);
    }
  }

  /**
   * Run op(...args, lo, hi) over items [0, items) in chunks of `chunk` on every thread; returns when all
   * are done. Throws if a thread failed (after replacing it).
   */
  run(op: string, args: readonly number[], items: number, chunk = Math.max(1, Math.ceil(items / (this.threads * CHUNKS_PER_THREAD)))): void {
    const opi = this.opIndex.get(op);
    if (opi === undefined) throw new Error(`thread pool: unknown op '${op}'`);
    if (args.length + 2 > MAX_ARGS) throw new Error(`thread pool: too many arguments for '${op}'`);
    const total = Math.ceil(items / chunk);
    if (total === 0) return;
    const fn = this.fns[opi];
    const crashTest = op === '__crash_for_test';
    if (crashTest && this.helpers.length === 0) throw new Error('thread pool: no helper thread to crash');
    if (!crashTest && (this.helpers.length === 0 || total === 1)) {
      fn(...args, 0, items, 0);
      return;
    }
    const ctl = this.ctl;
    Atomics.store(ctl, NEXT, CLOSED);
    for (let i = 0; i < args.length; i++) this.arg[i] = args[i];
    ctl[NARGS] = args.length;
    ctl[OP] = opi;
    ctl[ITEMS] = items;
    ctl[CHUNK] = chunk;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, TOTAL, total);
    Atomics.store(ctl, NEXT, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    const a = [...args, 0, 0, 0]; // lo, hi, scratch slot 0
    let err: unknown;
    for (;;) {
      if (crashTest) break; // only helper 1 takes part: the test needs a helper to fail
      const c = Atomics.add(ctl, NEXT, 1);
      if (c >= total) break;
      a[args.length] = c * chunk;
      a[args.length + 1] = Math.min(items, (c + 1) * chunk);
      try {
        fn(...a);
      } catch (e) {
        err ??= e;
      }
      Atomics.add(ctl, DONE, 1);
    }
    for (let s = 0; s < SPIN_POLLS && Atomics.load(ctl, DONE) < total; s++);
    for (;;) {
      const d = Atomics.load(ctl, DONE);
      if (d >= total) break;
      Atomics.wait(ctl, DONE, d, 100);
    }
    const failed = Atomics.load(ctl, FAILED);
    if (failed) {
      Atomics.store(ctl, FAILED, 0);
      this.failures++;
      const i = failed - 1;
      const h = this.helpers[i];
      const msg = receiveMessageOnPort(h.port)?.message ?? 'no message';
      void h.worker.terminate();
      h.port.close();
      Atomics.sub(ctl, READY, 1);
      this.helpers[i] = this.spawn(i);
      throw new Error(`kernel thread ${i + 1} of ${this.threads} failed in '${op}' and was replaced: ${String(msg).split('\n')[0]}`);
    }
    if (err) throw err;
  }

  /** Chunks each helper thread has run so far. */
  chunksByHelper(): number[] {
    return this.helpers.map((_, i) => Atomics.load(this.ctl, WORKED + i));
  }

  /** Stop every helper thread. */
  close(): void {
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const h of this.helpers) {
      void h.worker.terminate();
      h.port.close();
    }
    this.helpers.length = 0;
  }
}
