import { InspectorError } from '../errors';

/**
 * Round-to-nearest quantization of a weight W [N, K] (nn.Linear's [out, in]) along the input axis.
 *
 * The integer grid is GPTQ's (IST-DASLab/gptq `quant.py`, kept by AutoGPTQ): per group of input columns
 * of one row, xmin = min(min w, 0), xmax = max(max w, 0); asymmetric: scale = (xmax − xmin)/maxq,
 * zero = round(−xmin/scale); symmetric: xmax = max(|xmin|, xmax), zero = (maxq + 1)/2. q = clamp(round(w/scale)
 * + zero, 0, maxq), ŵ = scale·(q − zero). Arithmetic is float32 and round() is round-half-to-even, as in torch.
 * int8 absmax (LLM.int8()'s and bitsandbytes' grid) is separate: q ∈ [−127, 127], scale = absmax/127.
 */

/** Integer codes with their grid: ŵ[n, k] = scales[n, g(k)] · (q[n, k] − zeros[n, g(k)]) / inputScale[k]. */
export interface QuantizedWeight {
  readonly rows: number;
  readonly columns: number;
  readonly bits: number;
  /** Columns per group (= columns for one group per row; = rows·columns for one per tensor). */
  readonly groupSize: number;
  /** Integer codes [N, K]. */
  readonly q: Int32Array;
  /** [N, G] scale per row and group (one per tensor: G = 1 and every row holds the same value). */
  readonly scales: Float32Array;
  /** [N, G] integer zero points (0 for the signed absmax grid). */
  readonly zeros: Int32Array;
  /** [K] group of each input column (act-order GPTQ permutes it; otherwise k / groupSize). */
  readonly gIdx: Int32Array;
  readonly groups: number;
  /** AWQ's per-input-channel scale s: the codes quantize W·diag(s), so ŵ divides by s. */
  readonly inputScale?: Float32Array;
}

export interface GridOptions {
  bits: number;
  /** Columns per group; undefined or 0 = one group per row. */
  group?: number;
  sym: boolean;
}

const f32 = Math.fround;

/** torch.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function checkGrid(opts: GridOptions, columns: number, tensor?: string): number {
  if (!Number.isInteger(opts.bits) || opts.bits < 2 || opts.bits > 8) {
    throw new InspectorError(`bits must be an integer from 2 to 8, got ${opts.bits}`, { tensor });
  }
  const g = opts.group ? opts.group : columns;
  if (!Number.isInteger(g) || g <= 0 || columns % g !== 0) {
    throw new InspectorError(`group size ${opts.group} does not divide the input width ${columns}`, { tensor });
  }
  return g;
}

/** Scale and zero of one row's group, GPTQ's Quantizer.find_params. */
export function findParams(w: ArrayLike<number>, from: number, to: number, maxq: number, sym: boolean): { scale: number; zero: number } {
  let xmin = 0;
  let xmax = 0;
  for (let k = from; k < to; k++) {
    const v = f32(w[k]);
    if (v < xmin) xmin = v;
    if (v > xmax) xmax = v;
  }
  if (sym) {
    xmax = Math.max(Math.abs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin === 0 && xmax === 0) {
    xmin = -1;
    xmax = 1;
  }
  const scale = f32(f32(xmax - xmin) / maxq);
  const zero = sym ? (maxq + 1) / 2 : roundHalfEven(f32(-xmin / scale));
  return { scale, zero };
}

/** q = clamp(round(w/scale) + zero, 0, maxq). */
export function quantizeValue(w: number, scale: number, zero: number, maxq: number): number {
  const q = roundHalfEven(f32(f32(w) / scale)) + zero;
  return q < 0 ? 0 : q > maxq ? maxq : q;
}

/** RTN with GPTQ's grid, groups of consecutive input columns. */
export function quantizeRtn(w: Float32Array, rows: number, columns: number, opts: GridOptions, tensor?: string): QuantizedWeight {
  const g = checkGrid(opts, columns, tensor);
  const maxq = 2 ** opts.bits - 1;
  const G = columns / g;
  const q = new Int32Array(rows * columns);
  const scales = new Float32Array(rows * G);
  const zeros = new Int32Array(rows * G);
  for (let n = 0; n < rows; n++) {
    const row = w.subarray(n * columns, (n + 1) * columns);
    for (let j = 0; j < G; j++) {
      const { scale, zero } = findParams(row, j * g, (j + 1) * g, maxq, opts.sym);
      scales[n * G + j] = scale;
      zeros[n * G + j] = zero;
      for (let k = j * g; k < (j + 1) * g; k++) q[n * columns + k] = quantizeValue(row[k], scale, zero, maxq);
    }
  }
  return { rows, columns, bits: opts.bits, groupSize: g, q, scales, zeros, gIdx: consecutiveGroups(columns, g), groups: G };
}

export function consecutiveGroups(columns: number, g: number): Int32Array {
  const gIdx = new Int32Array(columns);
  for (let k = 0; k < columns; k++) gIdx[k] = Math.floor(k / g);
  return gIdx;
}

/** int8 absmax: one scale per output row (per channel) or one for the whole tensor. */
export function quantizeAbsmaxInt8(w: Float32Array, rows: number, columns: number, perTensor: boolean): QuantizedWeight {
  const q = new Int32Array(rows * columns);
  const scales = new Float32Array(rows);
  let tensorMax = 0;
  if (perTensor) for (const v of w) tensorMax = Math.max(tensorMax, Math.abs(v));
  for (let n = 0; n < rows; n++) {
    let absmax = tensorMax;
    if (!perTensor) for (let k = 0; k < columns; k++) absmax = Math.max(absmax, Math.abs(w[n * columns + k]));
    const scale = absmax === 0 ? 1 : f32(absmax / 127);
    scales[n] = scale;
    for (let k = 0; k < columns; k++) {
      const v = roundHalfEven(f32(w[n * columns + k] / scale));
      q[n * columns + k] = v < -127 ? -127 : v > 127 ? 127 : v;
    }
  }
  return { rows, columns, bits: 8, groupSize: perTensor ? rows * columns : columns, q, scales, zeros: new Int32Array(rows), gIdx: new Int32Array(columns), groups: 1 };
}

/** ŵ as float32 [N, K]. */
export function dequantize(qw: QuantizedWeight): Float32Array {
  const { rows, columns, groups, q, scales, zeros, gIdx, inputScale } = qw;
  const out = new Float32Array(rows * columns);
  for (let n = 0; n < rows; n++) {
    for (let k = 0; k < columns; k++) {
      const j = n * groups + gIdx[k];
      const v = f32(scales[j] * (q[n * columns + k] - zeros[j]));
      out[n * columns + k] = inputScale ? f32(v / inputScale[k]) : v;
    }
  }
  return out;
}

/** Bytes of the stored form: packed codes, fp16 scales, packed zero points (AutoGPTQ's layout). */
export function storedBytes(qw: QuantizedWeight): number {
  const scaleCount = qw.groupSize === qw.rows * qw.columns ? 1 : qw.rows * qw.groups;
  const zeroBits = qw.bits === 8 && qw.zeros.every((z) => z === 0) ? 0 : qw.bits;
  return Math.ceil((qw.rows * qw.columns * qw.bits) / 8) + 2 * scaleCount + Math.ceil((qw.rows * qw.groups * zeroBits) / 8) + (qw.inputScale ? 2 * qw.columns : 0);
}
