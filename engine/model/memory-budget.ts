import * as os from 'node:os';

/**
 * The one activation budget — the bytes a forward pass's trace and views may hold — and its automatic
 * default, derived from this machine's memory when neither the setting (`transformerInspector.memoryBudgetMB`,
 * 0 or absent = automatic) nor the CLI (`--trace-budget MB`) names one. The same number is used by the
 * fits-in-memory check at load (engine/model/fits.ts), by the trace store (engine/trace/store.ts) and by
 * the per-input refusals (engine/worker/budget.ts), and each refusal names it.
 *
 *   usable  = min(total memory, the cgroup limit if any, the memory available now)
 *   default = clamp(AUTO_BUDGET_SHARE × usable, AUTO_BUDGET_MIN, AUTO_BUDGET_MAX), whole MiB
 *
 * On a 24 GiB machine with most of it available that is about 6 GiB: a TinyLlama-1.1B-shaped model steps
 * through 2,048 tokens (2.6 GB needed) with its 2.2 GB of BF16 weights held whole beside it. A 2 GiB
 * machine gets 512 MiB. `TRANSFORMER_INSPECTOR_TRACE_BUDGET` (bytes) overrides the default, for tests and
 * scripts.
 */

/** What this machine has: bytes in all, available now (Linux: MemAvailable), and a cgroup limit if one is set. */
export interface MachineMemory {
  totalBytes: number;
  freeBytes: number;
  /** The container's memory limit (cgroup), when one is set below the total. */
  limitBytes?: number;
}

/** The share of the usable memory the activations may take by default. */
export const AUTO_BUDGET_SHARE = 0.25;
/** The automatic budget is never below this (a small machine still gets a budget that runs small models)… */
export const AUTO_BUDGET_MIN = 256 * 2 ** 20;
/** …nor above this (a big machine keeps room for the weights and the rest of the editor). */
export const AUTO_BUDGET_MAX = 16 * 2 ** 30;
/** The environment variable that sets the default budget in bytes (as before, for tests and scripts). */
export const BUDGET_ENV = 'TRANSFORMER_INSPECTOR_TRACE_BUDGET';

const MiB = 2 ** 20;

/** This machine's memory, as the OS reports it now. */
export function machineMemory(): MachineMemory {
  const totalBytes = os.totalmem();
  const freeBytes = os.freemem();
  // process.constrainedMemory: the cgroup limit (Node ≥ 19.6); 0 or 2⁶⁴ when there is none.
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < totalBytes ? { totalBytes, freeBytes, limitBytes: constrained } : { totalBytes, freeBytes };
}

/** The memory a process may plan with: the least of the total, the cgroup limit and what is available now. */
export function usableMemory(m: MachineMemory): number {
  return Math.max(0, Math.min(m.totalBytes, m.limitBytes ?? Infinity, m.freeBytes));
}

/** The automatic activation budget for a machine with this memory (bytes, whole MiB). */
export function autoMemoryBudget(m: MachineMemory): number {
  const share = AUTO_BUDGET_SHARE * usableMemory(m);
  const clamped = Math.min(AUTO_BUDGET_MAX, Math.max(AUTO_BUDGET_MIN, share));
  return Math.floor(clamped / MiB) * MiB;
}

let processDefault: number | undefined;

/**
 * This process's default activation budget: the environment variable when set, else the automatic
 * budget for this machine, computed once (so every check in the process names the same number).
 */
export function defaultMemoryBudget(): number {
  if (processDefault === undefined) {
    const fromEnv = Number(process.env[BUDGET_ENV]);
    processDefault = Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : autoMemoryBudget(machineMemory());
  }
  return processDefault;
}

/**
 * The activation budget for a setting in MB (the extension's `memoryBudgetMB`, the CLI's `--trace-budget`):
 * 0, absent or not a positive number = automatic (this process's default); otherwise that many MiB, at
 * least `minMb`.
 */
export function budgetFromMb(mb: number | undefined, minMb = 16, automatic: () => number = defaultMemoryBudget): number {
  if (mb === undefined || !Number.isFinite(mb) || mb <= 0) return automatic();
  return Math.max(minMb, mb) * MiB;
}

/**
 * Hold a checkpoint's weights whole when they fit beside the activation budget in the memory available
 * (so a recomputed layer does not re-read its weights), else stream them layer by layer within what is
 * left: the bytes the streamed weights may hold, or undefined to hold them whole. A machine with too
 * little left to stream gets undefined too: the fits check at load then refuses, naming both numbers.
 */
export function autoWeightBudget(heldWeightBytes: number, activationBudget: number, availableBytes: number, fitsKernels = true): number | undefined {
  const room = availableBytes - activationBudget;
  if (heldWeightBytes <= room && fitsKernels) return undefined;
  // Streamed weights are fp32 and share the room with their temporaries and released buffers: half of it.
  const streamBudget = Math.floor(room / 2);
  return streamBudget >= AUTO_BUDGET_MIN ? streamBudget : undefined;
}

/** Bytes as the budget messages name them: KB below 1 MiB, else MB (MiB, one decimal below 10). */
export function formatMB(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024).toLocaleString('en-US')} KB`;
  return `${(bytes / (1024 * 1024)).toLocaleString('en-US', { maximumFractionDigits: bytes < 10 * 1024 * 1024 ? 1 : 0 })} MB`;
}
