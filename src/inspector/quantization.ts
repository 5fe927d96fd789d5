/**
 * The Quantization tab's host side: the engine's report while it keeps the quantized model, and the
 * current hook float vs quantized (one head of an attention hook), asked again after every move.
 */
import type { EngineClient } from '../engine/client';
import type { Log } from '../log';
import type { Position } from '../../protocol/worker';
import type { ToWebview } from '../../protocol/webview';
import type { QuantReport, QuantStep, QuantizeSpec } from '../../protocol/quant';

/** The progress title of a quantization. */
export function quantizeTitle(spec: QuantizeSpec): string {
  const grid = spec.method === 'int8' || spec.method === 'llm-int8' ? '' : `, ${spec.bits} bits${spec.group ? `, groups of ${spec.group}` : ''}`;
  return `Quantizing (${spec.method}${grid})`;
}

export class QuantComparison {
  /** The quantization report while the engine keeps the quantized model. */
  report: QuantReport | undefined;
  /** The current hook float vs quantized, as last shown. */
  step: QuantStep | undefined;
  /** The head the panel shows (attention hooks are compared one head at a time). */
  private head = 0;
  /** Counts quantStep requests: only the newest reply is shown. */
  private seq = 0;

  constructor(
    private readonly client: EngineClient,
    private readonly log: Log,
    private readonly post: (msg: ToWebview) => void,
    private readonly changed: () => void,
  ) {}

  /** A new report: the engine quantized the model again; the comparison is asked anew. */
  accept(report: QuantReport): void {
    this.report = report;
    this.step = undefined;
  }

  /** The engine no longer holds the quantized model (a load, a restart). */
  drop(): void {
    this.report = undefined;
    this.step = undefined;
    this.seq++;
  }

  /** What the sidebar and the tests read of the comparison. */
  stepState(): { name: string; rel_error: number; head?: number } | undefined {
    return this.step && { name: this.step.name, rel_error: this.step.rel_error, ...(this.step.head !== undefined ? { head: this.step.head } : {}) };
  }

  /** The webview selected a head; an attention hook's comparison follows it. */
  async selectHead(head: number, position: Position | undefined, stale: boolean): Promise<void> {
    this.head = head;
    if (this.report && this.step?.head !== undefined && this.step.head !== head) await this.refresh(position, stale);
  }

  /**
   * After each move (and after quantizing): the current hook in the quantized model too. Not queued (the
   * engine answers in order, after the move); a reply that a newer move overtook is dropped.
   */
  async refresh(position: Position | undefined, stale: boolean): Promise<void> {
    if (!this.report || stale || position?.kind !== 'step') return;
    const seq = ++this.seq;
    const name = position.step.name;
    try {
      const r = await this.client.request({ kind: 'quantStep', head: this.head });
      if (seq !== this.seq || !this.report) return;
      this.step = r.step;
      this.post({ type: 'quantStep', step: r.step });
      this.changed();
    } catch (e) {
      if (seq === this.seq) this.log.info(`no quantized comparison of ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
