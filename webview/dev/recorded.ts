/**
 * Real engine output for the dev harness (written by webview/dev/record.ts into recorded.js, which
 * index.html loads before the fake host): scenarios `llama` (the logits step with predictions) and
 * `llama-attention` (an attention pattern) play these steps instead of the synthetic ones.
 */
import type { AttentionOverview, ComparisonView, MatrixView, ModelInfo, StepInfo } from '../../protocol/webview';
import type { QuantReport, QuantStep } from '../../protocol/quant';
import type { AnalysisReply, AnalysisRequest } from '../../protocol/analyses';

interface Recorded {
  model: ModelInfo;
  steps: { name: string; shape: number[] }[];
  recorded: Record<string, StepInfo & { view: { data: number[]; mask?: number[] } }>;
  quant?: { report: QuantReport; steps: Record<string, QuantStep> };
  /** The analyses on the same input, typed arrays as { typed, data }. */
  analyses?: { request: AnalysisRequest; reply: unknown }[];
  comparison?: unknown;
  /** Compare With… the quantized copy (two models on one input). */
  modelComparison?: unknown;
  /** The patching cell layer 1 × position 9 as its patched run, at its hook. */
  patchedStep?: unknown;
}

const TYPED: Record<string, (d: number[]) => unknown> = {
  Float32Array: (d) => Float32Array.from(d),
  Int32Array: (d) => Int32Array.from(d),
};
function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  if (typeof o.typed === 'string' && Array.isArray(o.data) && TYPED[o.typed])
    return TYPED[o.typed](o.data as number[]);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
}

const matrix = (v: MatrixView): MatrixView => ({
  ...v,
  data: Float32Array.from(v.data as unknown as number[]),
});

const raw = (window as unknown as { __TI_RECORDED__?: Recorded }).__TI_RECORDED__;

export const recorded = raw && {
  model: raw.model,
  steps: raw.steps,
  /** Indices of the recorded steps, in order. */
  indices: Object.keys(raw.recorded)
    .map(Number)
    .sort((a, b) => a - b),
  /** The recorded patterns, unpooled (they are small), as the engine's overview message. */
  overview(): AttentionOverview {
    const layers = this.indices
      .map((i) => this.step(i))
      .filter(
        (st): st is StepInfo =>
          st !== undefined && st.name.endsWith('hook_pattern') && st.view.kind === 'attention',
      )
      .map((st) => {
        const v = st.view as Extract<StepInfo['view'], { kind: 'attention' }>;
        return { name: st.name, heads: v.heads, rows: v.queries, cols: v.keys, data: v.data };
      });
    return { layers };
  },
  quantReport: revive(raw?.quant?.report) as QuantReport | undefined,
  /** The recorded step `index` float vs GPTQ 4-bit (head 0 of a pattern). */
  quantStep(index: number): QuantStep | undefined {
    const q = raw.quant?.steps[String(index)];
    return q && { ...q, fp: matrix(q.fp), quantized: matrix(q.quantized), diff: matrix(q.diff) };
  },
  /** The recorded Compare With… (the sentence with one token changed, at the last pattern). */
  comparison(): ComparisonView | undefined {
    return raw.comparison === undefined ? undefined : (revive(raw.comparison) as ComparisonView);
  },
  /** The recorded Compare With… the quantized copy, at the last pattern. */
  modelComparison(): ComparisonView | undefined {
    return raw.modelComparison === undefined ? undefined : (revive(raw.modelComparison) as ComparisonView);
  },
  /** The recorded patched run's step at the patched hook (labelled). */
  patchedStep(): StepInfo | undefined {
    return raw.patchedStep === undefined ? undefined : (revive(raw.patchedStep) as StepInfo);
  },
  /** The recorded answer to an analysis of this kind. */
  analysis(
    kind: AnalysisRequest['analysis'],
  ): { request: AnalysisRequest; reply: AnalysisReply } | undefined {
    const a = raw.analyses?.find((x) => x.request.analysis === kind);
    return a && { request: a.request, reply: revive(a.reply) as AnalysisReply };
  },
  step(index: number): StepInfo | undefined {
    const s = raw.recorded[String(index)];
    if (!s) return undefined;
    const view = s.view as unknown as { kind: string; data: number[]; mask?: number[] };
    const data = Float32Array.from(view.data);
    const mask = view.mask ? Uint8Array.from(view.mask) : undefined;
    return { ...s, view: { ...(s.view as object), data, ...(mask ? { mask } : {}) } } as StepInfo;
  },
};
