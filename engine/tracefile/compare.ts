import type { TraceFile } from './reader';

/** One hook of two traces side by side. */
export interface HookComparison {
  hook: string;
  status: 'compared' | 'only in first' | 'only in second' | 'shapes differ';
  shape?: readonly number[];
  /** Largest |a − b|, and that over the largest |a| (the engine's exactness measure). */
  maxAbs?: number;
  maxRel?: number;
}

/**
 * Compare two traces hook by hook (a local run against a cluster run, one library against another):
 * the first trace's order, then hooks only the second holds. Reads one hook of each at a time.
 */
export function compareTraces(a: TraceFile, b: TraceFile): HookComparison[] {
  const rows: HookComparison[] = [];
  for (const hook of a.hooks) {
    if (!b.has(hook)) {
      rows.push({ hook, status: 'only in first', shape: a.info(hook)?.shape });
      continue;
    }
    const x = a.read(hook);
    const y = b.read(hook);
    if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) {
      rows.push({ hook, status: 'shapes differ', shape: x.shape });
      continue;
    }
    let scale = 0;
    let maxAbs = 0;
    for (let i = 0; i < x.size; i++) {
      scale = Math.max(scale, Math.abs(x.data[i]));
      const d = Math.abs(x.data[i] - y.data[i]);
      // NaN on one side only is a difference as large as can be.
      maxAbs = Math.max(maxAbs, Number.isNaN(d) ? (Number.isNaN(x.data[i]) && Number.isNaN(y.data[i]) ? 0 : Infinity) : d);
    }
    rows.push({ hook, status: 'compared', shape: x.shape, maxAbs, maxRel: scale > 0 ? maxAbs / scale : maxAbs });
  }
  for (const hook of b.hooks) if (!a.has(hook)) rows.push({ hook, status: 'only in second', shape: b.info(hook)?.shape });
  return rows;
}
