import type { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import type { Step, Trace } from './step';

/**
 * Drives a forward pass one named step at a time. Steps are computed lazily and kept, so stepping
 * back (or resetting and stepping forward again) never reruns the pass. Over a trace recorded within a
 * budget (TraceStore.record, what the session uses) a kept step's tensor may have been evicted: reading
 * it recomputes that one layer from its kept input residual (engine/trace/store.ts).
 */
export class Stepper {
  private readonly computed: Step[] = [];
  private cursor = -1;
  private finished = false;
  private output: Tensor | undefined;

  constructor(private readonly trace: Trace) {}

  /** The step the cursor is on, or undefined before the first step. */
  get current(): Step | undefined {
    return this.cursor >= 0 ? this.computed[this.cursor] : undefined;
  }

  get index(): number {
    return this.cursor;
  }

  /** Steps computed so far (all of them once the pass has finished). */
  get steps(): readonly Step[] {
    return this.computed;
  }

  get done(): boolean {
    return this.finished;
  }

  get atEnd(): boolean {
    return this.finished && this.cursor === this.computed.length - 1;
  }

  /** The model's output (logits) once the pass has finished. */
  get result(): Tensor | undefined {
    return this.output;
  }

  /** Advance one step; returns undefined (and stays put) at the end of the pass. */
  next(): Step | undefined {
    if (this.cursor + 1 < this.computed.length || this.computeOne()) {
      this.cursor++;
      return this.current;
    }
    return undefined;
  }

  /** Go back one step (to "before the first step" from the first). */
  previous(): Step | undefined {
    if (this.cursor >= 0) this.cursor--;
    return this.current;
  }

  /** Move to the step with this hook name, computing forward as far as needed. */
  runTo(name: string): Step {
    let i = this.computed.findIndex((s) => s.name === name);
    while (i < 0 && this.computeOne()) {
      if (this.computed[this.computed.length - 1].name === name) i = this.computed.length - 1;
    }
    if (i < 0) throw new InspectorError(`this model has no step named '${name}'`);
    this.cursor = i;
    return this.computed[i];
  }

  /** Move to an already-computed step by index, or compute up to it. */
  goTo(index: number): Step | undefined {
    while (index >= this.computed.length && this.computeOne());
    if (index < 0 || index >= this.computed.length) return undefined;
    this.cursor = index;
    return this.computed[index];
  }

  runToEnd(): Step | undefined {
    while (this.computeOne());
    this.cursor = this.computed.length - 1;
    return this.current;
  }

  /** Back to before the first step; computed steps are kept. */
  reset(): void {
    this.cursor = -1;
  }

  private computeOne(): boolean {
    if (this.finished) return false;
    const r = this.trace.next();
    if (r.done) {
      this.finished = true;
      this.output = r.value;
      return false;
    }
    this.computed.push(r.value);
    return true;
  }
}
