import type { MatrixView } from './webview';

/**
 * Quantization in the inspector: what the host asks the engine (method, grid, calibration), the report
 * the engine answers with (per-layer errors, end-to-end figures, weight bytes), and the current hook's
 * float and quantized tensors side by side. Imported by the engine worker, the host and the webview.
 */

export const QUANT_METHOD_NAMES = ['int8', 'rtn', 'llm-int8', 'gptq', 'awq'] as const;
export type QuantMethodName = (typeof QUANT_METHOD_NAMES)[number];

/** Where the calibration tokens come from: the inspector's current input, a text (one sequence a line), or the bundled sample. */
export type Calibration = { kind: 'input' } | { kind: 'text'; text: string; source?: string } | { kind: 'sample' };

export interface QuantizeSpec {
  method: QuantMethodName;
  /** 2–8 (int8 and llm-int8 are 8-bit). */
  bits: number;
  /** Input columns per group; absent = the whole row. */
  group?: number;
  sym?: boolean;
  calibration: Calibration;
}

export interface QuantLayerReport {
  name: string;
  /** [out, in]. */
  shape: [number, number];
  weight_rel_error: number;
  output_rel_error: number;
  outlier_dims?: number[];
  alpha?: number;
}

/** The engine's measurement of one quantization (the `quantize --json` report, with where the calibration came from). */
export interface QuantReport {
  method: QuantMethodName;
  bits: number;
  group: number | null;
  sym: boolean;
  /** 'the current input', a file name, or 'the bundled sample'. */
  calibration: string;
  calib_tokens: number;
  /** Predicted tokens the end-to-end figures are over (the calibration text). */
  eval_tokens: number;
  layers: QuantLayerReport[];
  unreached: string[];
  perplexity_fp: number;
  perplexity_q: number;
  kl_mean: number;
  top1_agreement: number;
  weights_bytes: number;
  weights_bytes_fp: number;
}

/** The current hook in the float and the quantized model, reduced for drawing, and their difference. */
export interface QuantStep {
  name: string;
  index: number;
  /** ‖a − â‖/‖a‖ over the whole tensor. */
  rel_error: number;
  max_abs_diff: number;
  /** Attention hooks are shown one head at a time: which one. */
  head?: number;
  fp: MatrixView;
  quantized: MatrixView;
  /** quantized − fp, the same cells. */
  diff: MatrixView;
}

/** A quantize spec from an untrusted side (the webview, a command argument); undefined when malformed. */
export function parseQuantizeSpec(v: unknown): QuantizeSpec | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (!(QUANT_METHOD_NAMES as readonly unknown[]).includes(s.method)) return undefined;
  if (!Number.isInteger(s.bits) || (s.bits as number) < 2 || (s.bits as number) > 8) return undefined;
  if (s.group !== undefined && !(Number.isInteger(s.group) && (s.group as number) > 0 && (s.group as number) <= 1 << 20)) return undefined;
  if (s.sym !== undefined && typeof s.sym !== 'boolean') return undefined;
  const c = s.calibration as Record<string, unknown> | undefined;
  let calibration: Calibration;
  if (c?.kind === 'input' || c?.kind === 'sample') calibration = { kind: c.kind };
  else if (c?.kind === 'text' && typeof c.text === 'string' && c.text.length <= 4_000_000 && (c.source === undefined || typeof c.source === 'string')) {
    calibration = { kind: 'text', text: c.text, ...(typeof c.source === 'string' ? { source: c.source.slice(0, 500) } : {}) };
  } else return undefined;
  return {
    method: s.method as QuantMethodName,
    bits: s.bits as number,
    ...(s.group !== undefined ? { group: s.group as number } : {}),
    ...(s.sym !== undefined ? { sym: s.sym as boolean } : {}),
    calibration,
  };
}
