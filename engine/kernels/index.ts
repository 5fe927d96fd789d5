import type { MatmulKernel } from './types';
import { referenceMatmul } from './reference';
import { blockedMatmul } from './blocked';

export type { MatmulKernel } from './types';

const registry = new Map<string, MatmulKernel>();
let active: MatmulKernel = blockedMatmul;

/** Register a matmul implementation under its name; a duplicate name is a programming error. */
export function registerMatmul(kernel: MatmulKernel): void {
  if (registry.has(kernel.name)) throw new Error(`matmul kernel '${kernel.name}' is already registered`);
  registry.set(kernel.name, kernel);
}

export function useMatmul(name: string): void {
  const k = registry.get(name);
  if (!k) throw new Error(`no matmul kernel named '${name}' (have: ${[...registry.keys()].join(', ')})`);
  active = k;
}

export function matmulKernel(): MatmulKernel {
  return active;
}

export function matmulKernelNames(): string[] {
  return [...registry.keys()];
}

registerMatmul(referenceMatmul);
registerMatmul(blockedMatmul);

let threads = 1;

/** Set the kernel threads (default: the machine's available parallelism); returns the count in use. */
export function setKernelThreads(n?: number): number {
  threads = Math.max(1, n ?? 1);
  return threads;
}

/** The active kernels in one line, for bench output. */
export function kernelDescription(): string {
  return active.name;
}
