import { InspectorError } from '../errors';
import { weightsChanged } from '../kernels';
import type { QuantLayerReport } from '../../protocol/quant';
import type { Linear } from '../nn/linear';
import { Tensor } from '../tensor';
import type { ModelInput, TransformerModel } from '../model/transformer';
import { findLinears, discoverOrder, interceptForward, type NamedLinear, type LinearForward } from './linears';
import { quantizeRtn, quantizeAbsmaxInt8, dequantize, storedBytes, checkGrid, type QuantizedWeight } from './rtn';
import { gptqQuantize, hessian } from './gptq';
import { awqQuantize } from './awq';
import { int8Matmul, effectiveWeight, outlierDims } from './llm-int8';
import { relError, project } from './metrics';

export const QUANT_METHODS = ['int8', 'rtn', 'llm-int8', 'gptq', 'awq'] as const;
export type QuantMethod = (typeof QUANT_METHODS)[number];

export interface QuantOptions {
  method: QuantMethod;
  /** 2–8 for rtn/gptq/awq; int8 and llm-int8 are 8-bit. */
  bits: number;
  /** Input columns per group (undefined = whole row). */
  group?: number;
  /** Symmetric grid (fixed zero point) instead of min–max with zero points. */
  sym?: boolean;
  /** int8: one absmax scale for the whole tensor instead of one per output channel. */
  perTensor?: boolean;
  /** LLM.int8(): the outlier threshold α (6.0). */
  threshold?: number;
  /** GPTQ: process columns by descending Hessian diagonal. */
  actOrder?: boolean;
  /** GPTQ: dampening fraction of the mean Hessian diagonal (0.01). */
  percdamp?: number;
  /** AWQ: run the clipping search (true). */
  clip?: boolean;
  /**
   * AWQ: scale only the layers that read a norm's output (q/k/v, gate/up in pre-norm blocks), so that a
   * checkpoint can fold 1/s into that norm; the others get the clipping search alone (s = 1).
   */
  foldableOnly?: boolean;
  /**
   * Called after each group of layers sharing an input is quantized (layers done so far, of how many). It may
   * throw to stop (a cancel): the float weights are then put back before the error propagates.
   */
  onLayers?: (done: number, total: number, last: string) => void;
}

/** An AWQ scale folded into the norm whose output the scaled layers read: the norm's gain becomes g/s. */
export interface NormFold {
  /** Parameter names of the norm's gain (and bias). */
  weight: string;
  bias?: string;
  gainOffset: 0 | 1;
  scale: Float32Array;
  layers: string[];
}

/** One linear layer's errors: the message type the host and webview read (protocol/quant.ts). */
export type LayerQuantReport = QuantLayerReport;

export interface QuantizedModel {
  options: QuantOptions;
  layers: LayerQuantReport[];
  /** The codes of each weight-only-quantized linear, by layer name. */
  codes: Map<string, QuantizedWeight>;
  /** Linears the calibration input never reached (e.g. MoE experts no token was routed to): left in float. */
  unreached: string[];
  /** AWQ: the scales that fold into a preceding norm, one per group of layers sharing its output. */
  folds: NormFold[];
  /** Layers whose weight is a derived copy, not a parameter tensor (no checkpoint layout for them). */
  derived: string[];
  calib_tokens: number;
  weights_bytes: number;
  weights_bytes_fp: number;
  /** Put the float weights and forwards back. */
  restore(): void;
  /** Switch to the quantized model again after restore(). */
  apply(): void;
}

/** The widest layer input GPTQ and AWQ accept (a float64 K × K matrix of 0.5 GB). */
export const MAX_HESSIAN_WIDTH = 8192;

/** Check the options against the model before anything is computed. */
export function checkOptions(opts: QuantOptions, linears: readonly NamedLinear[]): void {
  if (!(QUANT_METHODS as readonly string[]).includes(opts.method)) {
    throw new InspectorError(`unknown quantization method '${opts.method}' (have: ${QUANT_METHODS.join(', ')})`);
  }
  if ((opts.method === 'int8' || opts.method === 'llm-int8') && opts.bits !== 8) {
    throw new InspectorError(`${opts.method} is 8-bit; got --bits ${opts.bits}`);
  }
  if (opts.method !== 'int8' && opts.method !== 'llm-int8') {
    for (const l of linears) checkGrid({ bits: opts.bits, group: opts.group, sym: opts.sym ?? false }, l.linear.inFeatures, `${l.name}.weight`);
  }
  if (opts.method === 'gptq' || opts.method === 'awq') {
    // H = 2XXᵀ (GPTQ) and XᵀX (AWQ) are K × K float64 matrices, and GPTQ factors H in O(K³).
    const wide = linears.find((l) => l.linear.inFeatures > MAX_HESSIAN_WIDTH);
    if (wide) {
      const gb = (8 * wide.linear.inFeatures ** 2) / 1e9;
      throw new InspectorError(`${opts.method.toUpperCase()} needs a ${wide.linear.inFeatures} × ${wide.linear.inFeatures} matrix (${gb.toFixed(1)} GB) for this layer; the inspector runs it on layers up to ${MAX_HESSIAN_WIDTH} inputs wide (rtn works on any)`, { tensor: `${wide.name}.weight` });
    }
  }
  if (opts.threshold !== undefined && !(opts.threshold >= 0)) throw new InspectorError(`the LLM.int8() threshold must be ≥ 0, got ${opts.threshold}`);
  if (linears.length === 0) throw new InspectorError('this model has no linear layers to quantize');
}

/**
 * Quantize every linear layer of the model (not the embeddings, norms or lm_head) in place, running the
 * calibration input through it once: each group of layers is quantized when the forward pass first reaches
 * it, so later layers receive the outputs of the already-quantized earlier ones (GPTQ's sequential setting).
 */
export function quantizeModel(model: TransformerModel, calib: ModelInput, opts: QuantOptions): QuantizedModel {
  const linears = findLinears(model);
  checkOptions(opts, linears);
  const sequences = calib.ids.length;
  const calibTokens = calib.ids.reduce((n, r) => n + r.length, 0);
  if (calibTokens === 0) throw new InspectorError('the calibration input has no tokens');
  // The call order and shared inputs do not depend on the length: find them on a short probe.
  const probe: ModelInput = { ids: [calib.ids[0].slice(0, 8)], decoderIds: calib.decoderIds && [calib.decoderIds[0].slice(0, 8)] };
  const groups = discoverOrder(model, linears, probe);
  const groupOf = new Map<Linear, NamedLinear[]>();
  for (const g of groups) for (const nl of g) groupOf.set(nl.linear, g);

  const fp = new Map<Linear, Float32Array>();
  for (const { linear } of linears) fp.set(linear, Float32Array.from(linear.weight.data));
  const layers: LayerQuantReport[] = [];
  const folds: NormFold[] = [];
  const codes = new Map<string, QuantizedWeight>();
  const done = new Set<Linear>();
  const grid = { bits: opts.bits, group: opts.group, sym: opts.sym ?? false };
  const threshold = opts.threshold ?? 6;

  const quantizeGroup = (group: NamedLinear[], x: Tensor): void => {
    const K = group[0].linear.inFeatures;
    const M = x.size / K;
    const X = x.data;
    const H = opts.method === 'gptq' ? hessian(X, M, K, sequences) : undefined;
    const norm = normOutputs.get(x);
    const awq =
      opts.method === 'awq'
        ? awqQuantize(X, M, K, group.map((l) => ({ name: l.name, w: fp.get(l.linear)!, N: l.linear.outFeatures })), grid, opts.clip ?? true, !opts.foldableOnly || norm !== undefined)
        : undefined;
    if (awq && norm && awq.alpha !== 0) folds.push({ ...norm, scale: awq.inputScale, layers: group.map((l) => l.name) });
    group.forEach((nl, i) => {
      const { linear, name } = nl;
      const N = linear.outFeatures;
      const W = fp.get(linear)!;
      const Y = project(X, M, K, W, N);
      const report: LayerQuantReport = { name, shape: [N, K], weight_rel_error: 0, output_rel_error: 0 };
      if (opts.method === 'llm-int8') {
        const outliers = outlierDims(X, M, K, threshold).flatMap((o, k) => (o ? [k] : []));
        report.weight_rel_error = relError(W, effectiveWeight(W, N, K, outliers));
        report.output_rel_error = relError(Y, int8Matmul(X, M, K, W, N, threshold).y);
        report.outlier_dims = outliers;
      } else {
        let qw: QuantizedWeight;
        if (opts.method === 'int8') qw = quantizeAbsmaxInt8(W, N, K, opts.perTensor ?? false);
        else if (opts.method === 'rtn') qw = quantizeRtn(W, N, K, grid, `${name}.weight`);
        else if (opts.method === 'gptq') qw = gptqQuantize(W, N, K, H!, { ...grid, actOrder: opts.actOrder, percdamp: opts.percdamp }, `${name}.weight`);
        else {
          qw = awq!.weights[i];
          report.alpha = awq!.alpha;
        }
        const deq = dequantize(qw);
        report.weight_rel_error = relError(W, deq);
        report.output_rel_error = relError(Y, project(X, M, K, deq, N));
        linear.weight.data.set(deq);
        weightsChanged(linear.weight);
        codes.set(name, qw);
      }
      layers.push(report);
      done.add(linear);
    });
    opts.onLayers?.(layers.length, linears.length, group[group.length - 1].name);
  };

  const int8 = opts.method === 'llm-int8';
  const undo = linears.map((nl) =>
    interceptForward(nl.linear, (original) => (x) => {
      if (!done.has(nl.linear)) quantizeGroup(groupOf.get(nl.linear) ?? [nl], x);
      return int8 ? int8Forward(nl.linear, threshold)(x) : original(x);
    }),
  );
  // The tensors the pre-norm blocks' norms produce, so AWQ knows which scales a checkpoint can fold.
  const normOutputs = new Map<Tensor, Omit<NormFold, 'scale' | 'layers'>>();
  const norms = preNorms(model);
  try {
    const trace = model.forward(calib);
    for (let r = trace.next(); !r.done; r = trace.next()) {
      const n = norms.get(r.value.name);
      if (n) normOutputs.set(r.value.tensor, n);
    }
  } catch (e) {
    // Stopped part-way (a cancel, a bad layer): the model goes back to float, whole.
    for (const [linear, w] of fp) {
      linear.weight.data.set(w);
      weightsChanged(linear.weight); // the kernels' panels may hold the quantized values
    }
    throw e;
  } finally {
    for (const u of undo) u();
  }
  // LLM.int8(): the calibration interceptors are gone; install the int8 forwards for what follows.
  let installed: (() => void)[] = [];
  const installInt8 = () => {
    if (int8) installed = linears.map((nl) => interceptForward(nl.linear, () => int8Forward(nl.linear, threshold)));
  };
  installInt8();
  // The quantized weights, to switch between the float and the quantized model.
  const quantizedWeights = new Map<Linear, Float32Array>();
  for (const { linear } of linears) if (done.has(linear) && !int8) quantizedWeights.set(linear, Float32Array.from(linear.weight.data));
  let isQuantized = true;
  return {
    options: opts,
    layers,
    codes,
    folds,
    derived: linears.filter((l) => !l.isParameter).map((l) => l.name),
    unreached: linears.filter((l) => !done.has(l.linear)).map((l) => l.name),
    calib_tokens: calibTokens,
    weights_bytes: weightBytes(model, linears, codes, opts.method === 'llm-int8'),
    weights_bytes_fp: [...model.parameters.values()].reduce((n, t) => n + 4 * t.size, 0),
    restore() {
      if (!isQuantized) return;
      for (const u of installed) u();
      installed = [];
      for (const [linear, w] of fp) {
        linear.weight.data.set(w);
        weightsChanged(linear.weight);
      }
      isQuantized = false;
    },
    apply() {
      if (isQuantized) return;
      for (const [linear, w] of quantizedWeights) {
        linear.weight.data.set(w);
        weightsChanged(linear.weight);
      }
      installInt8();
      isQuantized = true;
    },
  };
}

/** The norms of pre-norm blocks by the hook that records their output (`blocks.0.ln1.hook_normalized`). */
function preNorms(model: TransformerModel): Map<string, Omit<NormFold, 'scale' | 'layers'>> {
  const nameOf = new Map<Tensor, string>();
  for (const [name, t] of model.parameters) nameOf.set(t, name);
  const out = new Map<string, Omit<NormFold, 'scale' | 'layers'>>();
  for (const side of [model.main, model.decoder]) {
    for (const block of side?.stack.blocks ?? []) {
      if (block.placement !== 'pre') continue;
      block.sublayers.forEach((s, i) => {
        const norm = s.norm as { weight?: Tensor; bias?: Tensor; spec: { kind: string; gainOffset?: 0 | 1 } };
        if (norm.spec.kind === 'scalenorm' || !norm.weight) return;
        const weight = nameOf.get(norm.weight);
        if (weight === undefined) return;
        const bias = norm.bias ? nameOf.get(norm.bias) : undefined;
        out.set(`${block.path}.ln${i + 1}.hook_normalized`, { weight, bias, gainOffset: norm.spec.gainOffset ?? 0 });
      });
    }
  }
  return out;
}

/** The LLM.int8() forward of one linear: y [..., N] from x [..., K]. */
function int8Forward(linear: Linear, threshold: number): LinearForward {
  const K = linear.inFeatures;
  const N = linear.outFeatures;
  return (x) => {
    const { y } = int8Matmul(x.data, x.size / K, K, linear.weight.data, N, threshold, linear.bias?.data);
    return new Tensor([...x.shape.slice(0, -1), N], y);
  };
}

/**
 * Bytes of every parameter once, with the quantized linears in their stored form: the fp32 total minus the
 * linears' float weights plus their stored size (the linears' weights partition their parameters' elements,
 * also where they are derived copies, like GPT-2's q/k/v slices of c_attn).
 */
function weightBytes(model: TransformerModel, linears: readonly NamedLinear[], codes: Map<string, QuantizedWeight>, int8Rows: boolean): number {
  let bytes = 0;
  for (const t of model.parameters.values()) bytes += 4 * t.size;
  for (const { name, linear } of linears) {
    const qw = codes.get(name);
    if (!qw && !int8Rows) continue;
    bytes += (qw ? storedBytes(qw) : linear.weight.size + 4 * linear.outFeatures) - 4 * linear.weight.size;
  }
  return bytes;
}
