import { Tensor } from '../tensor';
import { hookDims } from '../trace/hooks';
import type { Trace } from '../trace/step';
import type { TraceFile } from './reader';

/** Bytes of recorded tensors kept in memory at once; older ones are dropped and re-read when shown again. */
export const RECORDED_CACHE_BYTES = 256_000_000;

/**
 * A recorded forward pass as a Trace the Stepper walks like a computed one. Every step is there at once
 * (its shape is in the header); a step's values are read from disk only when something reads its `data`
 * (the view on screen, an export), so a 20 GB trace opens at once and stepping through it holds at most
 * `cacheBytes` of it. Returns the last tensor (the logits when recorded).
 */
export function* replayTrace(trace: TraceFile, cacheBytes = RECORDED_CACHE_BYTES): Trace {
  const cache = new RecordedCache(trace, cacheBytes);
  let last: Tensor | undefined;
  for (const name of trace.hooks) {
    last = new RecordedTensor(trace.info(name)!.shape, name, cache);
    yield { name, tensor: last, dims: hookDims(name) };
  }
  return last ?? new Tensor([0]);
}

/** A recorded hook tensor whose values are read when first used. */
export class RecordedTensor extends Tensor {
  constructor(
    shape: readonly number[],
    readonly hook: string,
    private readonly cache: RecordedCache,
  ) {
    super(shape, undefined, true);
  }

  get resident(): boolean {
    return this.values !== undefined;
  }

  protected override load(): Float32Array {
    const v = this.cache.read(this);
    this.values = v;
    return v;
  }

  release(): void {
    this.values = undefined;
  }
}

/** Keeps the most recently read tensors of a trace up to a byte budget (whoever holds an older array keeps it). */
export class RecordedCache {
  private readonly held: RecordedTensor[] = [];
  private bytes = 0;
  reads = 0;

  constructor(
    private readonly trace: TraceFile,
    private readonly budget: number,
  ) {}

  read(t: RecordedTensor): Float32Array {
    const v = this.trace.read(t.hook).data;
    this.reads++;
    this.held.push(t);
    this.bytes += v.byteLength;
    while (this.held.length > 1 && this.bytes > this.budget) {
      const old = this.held.shift()!;
      this.bytes -= old.size * 4;
      old.release();
    }
    return v;
  }
}

/**
 * Hooks the model computes but the trace did not record, judged from the trace itself: a layer that has a
 * hook another layer of its stack recorded is missing it, and so is a layer of the config that recorded
 * nothing. (Used for models too large for a dry run; see modelHooks in session.ts.)
 */
export function absentHooks(trace: TraceFile, numLayers: number, numDecoderLayers = 0): string[] {
  const perStack = new Map<string, Set<string>>();
  const layerOf = /^((?:encoder\.|decoder\.)?blocks)\.(\d+)\.(.+)$/;
  for (const h of trace.hooks) {
    const m = layerOf.exec(h);
    if (!m) continue;
    if (!perStack.has(m[1])) perStack.set(m[1], new Set());
    perStack.get(m[1])!.add(m[3]);
  }
  const absent: string[] = [];
  for (const [stack, suffixes] of perStack) {
    const layers = stack === 'decoder.blocks' ? numDecoderLayers : numLayers;
    for (let i = 0; i < layers; i++) for (const s of suffixes) if (!trace.has(`${stack}.${i}.${s}`)) absent.push(`${stack}.${i}.${s}`);
  }
  return absent;
}
