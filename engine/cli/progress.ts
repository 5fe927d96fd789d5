import type { Step, Trace } from '../trace/step';
import type { Tensor } from '../tensor';

const LAYER_DONE = /^(?:(encoder|decoder)\.)?blocks\.(\d+)\.hook_resid_post$/;

/**
 * Run a forward trace to completion like runTrace, reporting `layer i of N` as each block finishes, so a
 * multi-second forward of a big model shows where it is. `report` gets the message; nothing is printed
 * for a forward shorter than `quietMs`.
 */
export function runTraceWithProgress(trace: Trace<Tensor>, layers: number, report: (message: string) => void, quietMs = 1000): { steps: Step[]; result: Tensor } {
  const steps: Step[] = [];
  const t0 = performance.now();
  let shown = false;
  for (;;) {
    const r = trace.next();
    if (r.done) {
      if (shown) report('');
      return { steps, result: r.value };
    }
    steps.push(r.value);
    const m = LAYER_DONE.exec(r.value.name);
    if (m && performance.now() - t0 > quietMs) {
      shown = true;
      report(`${m[1] ? `${m[1]} ` : ''}layer ${Number(m[2]) + 1} of ${layers} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  }
}

/** A reporter that rewrites one stderr line when stderr is a terminal, and stays silent otherwise. */
export function stderrProgress(): (message: string) => void {
  if (!process.stderr.isTTY) return () => {};
  return (message) => process.stderr.write(message ? `\r${message}\x1b[K` : '\r\x1b[K');
}
