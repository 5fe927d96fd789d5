import { InspectorError } from '../errors';
import type { LoadedModel } from '../model/load';
import { Tensor } from '../tensor';
import { runTrace, type Step } from '../trace/step';
import type { Dim } from '../trace/hooks';
import type { QuantizedModel } from '../quant/quantize-model';
import { quantizeAndMeasure, tokenizeLines } from '../cli/quantize';
import { CALIBRATION_SAMPLE } from '../quant/sample-text';
import { relError } from '../quant/metrics';
import type { InputIds } from '../../protocol/worker';
import type { MatrixView } from '../../protocol/webview';
import type { QuantReport, QuantStep, QuantizeSpec } from '../../protocol/quant';
import { matrixView } from './views';
import type { Control } from './control';

/**
 * The quantized model beside the float one in the engine worker. Both live in the one loaded model:
 * the float weights are in place while the stepper runs, and `apply()` / `restore()` switch the
 * linears to the quantized weights (and back) to compute the quantized pass of the current input,
 * which is kept hook by hook until the input changes.
 */
export class QuantSession {
  /** The quantized pass of `passInput`, every hook. */
  private pass: Step[] | undefined;
  private passInput: InputIds | undefined;

  private constructor(
    private readonly loaded: LoadedModel,
    private readonly quantized: QuantizedModel,
    readonly report: QuantReport,
  ) {}

  /** Quantize the loaded model's linears on the calibration the spec names and measure the result; the model is left in float. */
  static quantize(loaded: LoadedModel, input: InputIds, spec: QuantizeSpec, control: Control): QuantSession {
    const { seqs, calibration } = calibrationOf(loaded, input, spec);
    const tokens = seqs.reduce((n, s) => n + s.length, 0);
    const onLayers = (done: number, total: number, last: string) => {
      if (control.cancelled()) throw new InspectorError('quantization cancelled; the model is unchanged');
      control.progress(`Quantized ${done} of ${total} linear layers (${last}) on ${tokens} calibration tokens`, done / total);
    };
    const opts = { method: spec.method, bits: spec.bits, group: spec.group, sym: spec.sym ?? false, onLayers };
    control.progress(`Quantizing the linear layers (${spec.method}) on ${tokens} calibration tokens…`, 0);
    const { quantized, report } = quantizeAndMeasure(loaded, opts, seqs, seqs);
    // The stepper computes the float pass: the float weights go back in place.
    quantized.restore();
    return new QuantSession(loaded, quantized, { ...report, calibration });
  }

  /** The current step of the float pass beside the same hook of the quantized pass (one head of an attention hook). */
  compare(fp: Step, index: number, input: InputIds, labels: { rows: string[]; queries: string[] }, head = 0): QuantStep {
    const q = this.quantizedPass(input)[index];
    if (!q || q.name !== fp.name) throw new InspectorError(`the quantized pass has no step ${index} named ${fp.name}`);
    const attention = fp.tensor.rank === 4 && fp.dims[1] === 'head_index';
    const heads = attention ? fp.tensor.shape[1] : 0;
    if (attention && (head < 0 || head >= heads)) throw new InspectorError(`head ${head} is outside 0 … ${heads - 1}`);
    const a = attention ? headSlice(fp.tensor, head) : fp.tensor;
    const b = attention ? headSlice(q.tensor, head) : q.tensor;
    const dims: readonly Dim[] = attention ? ['batch', 'query_pos', 'key_pos'] : fp.dims;
    const rows = attention ? labels.queries : labels.rows;
    const diff = new Tensor(a.shape, new Float32Array(a.size));
    let maxAbs = 0;
    for (let i = 0; i < a.size; i++) {
      const d = b.data[i] - a.data[i];
      diff.data[i] = d;
      if (Math.abs(d) > maxAbs) maxAbs = Math.abs(d);
    }
    const shown = (t: Tensor) => matrixView(maskedAsZero(t), dims, rows).view as MatrixView;
    return {
      name: fp.name,
      index,
      rel_error: relError(fp.tensor.data, q.tensor.data),
      max_abs_diff: maxAbs,
      ...(attention ? { head } : {}),
      fp: shown(a),
      quantized: shown(b),
      diff: shown(diff),
    };
  }

  /** The quantized pass over `input`, every hook (kept until the input changes). */
  quantizedPass(input: InputIds): Step[] {
    if (this.pass && this.passInput === input) return this.pass;
    const model = this.loaded.model;
    this.quantized.apply();
    try {
      this.pass = runTrace(model.forward({ ids: [input.ids], ...(input.decoderIds ? { decoderIds: [input.decoderIds] } : {}) })).steps;
    } finally {
      this.quantized.restore();
    }
    this.passInput = input;
    return this.pass;
  }
}

/** The calibration sequences a spec names, and how the report calls them. */
function calibrationOf(loaded: LoadedModel, input: InputIds, spec: QuantizeSpec): { seqs: number[][]; calibration: string } {
  switch (spec.calibration.kind) {
    case 'input':
      return { seqs: [input.ids], calibration: 'the current input' };
    case 'sample':
      return { seqs: tokenizeLines(loaded, CALIBRATION_SAMPLE, 'the bundled calibration sample'), calibration: 'the bundled sample (32 KJV verses)' };
    case 'text':
      if (spec.calibration.text.trim().length === 0) throw new InspectorError('the calibration text is empty');
      return { seqs: tokenizeLines(loaded, spec.calibration.text, 'the calibration text'), calibration: spec.calibration.source ?? 'the given text' };
  }
}

/** Head `h` of [batch, head, query, key], batch element 0: [1, query, key]. */
function headSlice(t: Tensor, h: number): Tensor {
  const [, , Q, K] = t.shape;
  const offset = h * Q * K;
  return new Tensor([1, Q, K], t.data.slice(offset, offset + Q * K));
}

/** Attention scores carry −1e9 where masked: shown as 0 so the colour scale fits the real scores. */
function maskedAsZero(t: Tensor): Tensor {
  if (!t.data.some((v) => Math.abs(v) >= 1e8)) return t;
  return new Tensor(t.shape, t.data.map((v) => (Math.abs(v) >= 1e8 ? 0 : v)));
}
