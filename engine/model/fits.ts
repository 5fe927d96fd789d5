import { InspectorError } from '../errors';
import { formatShort } from '../analysis/report';
import type { FileWeights } from './weights';
import { defaultMemoryBudget, formatMB, machineMemory, usableMemory } from './memory-budget';

/**
 * The size limit is memory, not a parameter count: a model runs when its weights, as this engine keeps
 * them, plus the trace budget fit in the memory available now. Checked from the config's parameter count
 * and the weights files' headers only, before anything is allocated.
 *   16-bit (F16/BF16) matrices: 2 bytes each, kept once, in the kernels' memory;
 *   fp32 matrices: 4 bytes + 4 for their packed panels; vectors and seeded weights: fp32 (+ panels).
 * The kernels' memory is a 32-bit WebAssembly memory: what lives there must also fit 4 GiB.
 */

/** What the kernels' 32-bit WebAssembly memory addresses. */
export const WASM_LIMIT_BYTES = 4 * 2 ** 30;

export interface MemoryNeed {
  /** Bytes of weights as held in memory (JS heap + kernel memory). */
  weightBytes: number;
  /** Of those, the bytes in the kernels' 4 GiB memory. */
  kernelBytes: number;
}

/** What a model's weights take as this engine holds them. */
export function memoryNeed(totalParameters: bigint, weights: FileWeights | undefined): MemoryNeed {
  if (!weights) {
    const n = Number(totalParameters);
    return { weightBytes: 8 * n, kernelBytes: 4 * n };
  }
  let weightBytes = 0;
  let kernelBytes = 0;
  for (const f of weights.files) {
    for (const t of f.tensors.values()) {
      const elements = t.shape.reduce((a, b) => a * b, 1);
      if (t.shape.length === 2 && (t.dtype === 'F16' || t.dtype === 'BF16')) {
        weightBytes += 2 * elements;
        kernelBytes += 2 * elements;
      } else if (t.shape.length === 2) {
        weightBytes += 8 * elements;
        kernelBytes += 4 * elements;
      } else weightBytes += 4 * elements;
    }
  }
  return { weightBytes, kernelBytes };
}

const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;

/**
 * Refuse a model whose weights plus the activation budget do not fit: names bytes needed and available,
 * and the budget — the session's own (engine/model/memory-budget.ts), the one the trace refusals name.
 * `traceAtMost`: the model's whole trace at its longest input (a budget past it is never filled).
 */
export function checkFitsInMemory(
  configPath: string,
  totalParameters: bigint,
  weights: FileWeights | undefined,
  available = usableMemory(machineMemory()),
  activationBudget = defaultMemoryBudget(),
  traceAtMost = Infinity,
): MemoryNeed {
  const need = memoryNeed(totalParameters, weights);
  // The trace holds at most the budget, and never more than this model's whole trace at its longest input.
  const activations = Math.min(activationBudget, traceAtMost);
  const needed = need.weightBytes + activations;
  const capped = activations < activationBudget ? `, of which this model's whole trace at its longest input takes ${formatMB(activations)}` : '';
  const tail = 'Its size analysis (parameter breakdown, memory, KV cache) is still shown.';
  if (needed > available) {
    throw new InspectorError(
      `this model has ${formatShort(totalParameters)} parameters: too large to run here — its weights need ${gb(need.weightBytes)} as held in memory (${needed.toLocaleString('en-US')} bytes with the engine's memory budget of ${formatMB(activationBudget)} for the trace${capped}), but ${available.toLocaleString('en-US')} bytes (${gb(available)}) are available: lower the budget (setting transformerInspector.memoryBudgetMB; CLI --trace-budget) or free memory. ${tail}`,
      { file: configPath },
    );
  }
  if (need.kernelBytes > WASM_LIMIT_BYTES) {
    throw new InspectorError(
      `this model has ${formatShort(totalParameters)} parameters: too large to run here — the kernels would hold ${gb(need.kernelBytes)} of weights, past the 4.3 GB a 32-bit WebAssembly memory addresses${weights ? '' : ' (seeded fp32 weights; a 16-bit checkpoint takes half)'}. ${tail}`,
      { file: configPath },
    );
  }
  return need;
}
