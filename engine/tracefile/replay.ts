import { Tensor } from '../tensor';
import { hookDims } from '../trace/hooks';
import type { Trace } from '../trace/step';
import type { TraceFile } from './reader';

/**
 * A recorded forward pass as a Trace the Stepper walks like a computed one: each step's tensor is read
 * from disk when the stepper reaches it, nothing is computed. Returns the last tensor (the logits when recorded).
 */
export function* replayTrace(trace: TraceFile): Trace {
  let last: Tensor | undefined;
  for (const name of trace.hooks) {
    const tensor = trace.read(name);
    last = tensor;
    yield { name, tensor, dims: hookDims(name) };
  }
  return last ?? new Tensor([0]);
}

/**
 * Hooks the model computes but the trace did not record, judged from the trace itself: a layer that has a
 * hook another layer of its stack recorded is missing it, and so is a layer of the config that recorded
 * nothing. (Hooks no layer recorded were not asked for at all; they are listed by the writer's options.)
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
