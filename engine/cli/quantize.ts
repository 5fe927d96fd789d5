import { readTextGuarded } from '../io/guarded';
import { parseArgs } from 'node:util';
import { InspectorError } from '../errors';
import { loadModel, type LoadedModel } from '../model/load';
import { runTrace } from '../trace/step';
import type { Tensor } from '../tensor';
import type { ModelInput } from '../model/transformer';
import { quantizeModel, QUANT_METHODS, type QuantMethod, type QuantOptions, type QuantizedModel } from '../quant/quantize-model';
import { compareLogits, type EndToEnd } from '../quant/metrics';
import { CALIBRATION_SAMPLE } from '../quant/sample-text';
import { parseIdList, parsePositiveInt } from './args';
import { writeQuantizedCheckpoint } from '../quant/write-checkpoint';
import { compareHooks } from '../quant/compare-trace';

export const QUANTIZE_USAGE = `usage: transformer-inspector quantize PATH --method ${QUANT_METHODS.join('|')} [--bits B] [--group G] [--sym]
         [--per-tensor] [--threshold 6.0] [--act-order] [--no-clip]
         [--calib-text "…" | --calib-file F | --calib-ids 5,7;9,2] [--eval-text "…" | --eval-file F | --eval-ids …]
         [--json] [--seeded] [--out DIR] [--hooks]
  Quantizes every linear layer (not embeddings, norms or lm_head) and reports, per layer, ‖W−Ŵ‖/‖W‖ and the
  calibration output error ‖XW−XŴ‖/‖XW‖; end to end on the evaluation text: perplexity fp vs quantized, mean
  KL of the next-token distributions, top-1 agreement, and the weight bytes.
  Text files hold one sequence per line. Calibration lines are joined into windows of up to 128 tokens;
  evaluation lines are scored one by one. Without calibration input, a bundled KJV sample is used; without
  evaluation input, the calibration text is scored.
  --hooks compares every hook's activation of the first evaluation sequence, float vs quantized (‖a−â‖/‖a‖).
  --out DIR writes the quantized model as a Hugging Face folder: AutoGPTQ's layout for rtn/gptq (2, 4, 8 bits),
  AutoAWQ's GEMM layout for awq (4 bits; then only the layers reading a norm's output are scaled, s folded into it).`;

export interface QuantizeReport extends EndToEnd {
  method: QuantMethod;
  bits: number;
  group: number | null;
  sym: boolean;
  calib_tokens: number;
  layers: QuantizedModel['layers'];
  /** Linears the calibration input never reached (left in float). */
  unreached: string[];
  weights_bytes: number;
  weights_bytes_fp: number;
}

export function tokenizeLines(loaded: LoadedModel, text: string, flag: string): number[][] {
  if (!loaded.tokenizer) throw new InspectorError(`${flag} needs a tokenizer.json beside the config; give ids instead`, { file: loaded.configPath });
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const seqs = lines.map((l) => loaded.tokenizer!.encode(l).ids.slice(0, loaded.spec.maxLen)).filter((ids) => ids.length > 0);
  if (seqs.length === 0) throw new InspectorError(`${flag}: the text is empty (no tokens)`);
  return seqs;
}

/** Join sequences into equal windows (one batch) of min(128, max_len) tokens, or one window if shorter. */
export function calibrationWindows(seqs: number[][], maxLen: number): number[][] {
  const all = seqs.flat();
  const T = Math.min(128, maxLen, all.length);
  const windows: number[][] = [];
  for (let i = 0; i + T <= all.length; i += T) windows.push(all.slice(i, i + T));
  return windows;
}

function readFile(file: string, flag: string): string {
  try {
    return readTextGuarded(file, 'text');
  } catch (e) {
    throw new InspectorError(`${flag}: cannot read the file: ${(e as Error).message}`, { file });
  }
}

function sequencesFrom(loaded: LoadedModel, values: Record<string, string | boolean | undefined>, kind: 'calib' | 'eval'): number[][] | undefined {
  const text = values[`${kind}-text`] as string | undefined;
  const file = values[`${kind}-file`] as string | undefined;
  const ids = values[`${kind}-ids`] as string | undefined;
  const given = [text, file, ids].filter((v) => v !== undefined).length;
  if (given > 1) throw new InspectorError(`give one of --${kind}-text, --${kind}-file, --${kind}-ids`);
  if (ids !== undefined) return parseIdList(ids, `--${kind}-ids`);
  if (file !== undefined) return tokenizeLines(loaded, readFile(file, `--${kind}-file`), `--${kind}-file`);
  if (text !== undefined) return tokenizeLines(loaded, text, `--${kind}-text`);
  return undefined;
}

function input(loaded: LoadedModel, ids: number[][]): ModelInput {
  return loaded.spec.architecture === 'encoder-decoder' ? { ids, decoderIds: ids } : { ids };
}

function logitsOf(loaded: LoadedModel, seqs: number[][]): Tensor[] {
  return seqs.map((s) => runTrace(loaded.model.forward(input(loaded, [s]))).result);
}

/** Quantize a loaded model and measure it; the model is left quantized. */
export function quantizeAndMeasure(loaded: LoadedModel, opts: QuantOptions, calibSeqs: number[][], evalSeqs: number[][]): { quantized: QuantizedModel; report: QuantizeReport } {
  const windows = calibrationWindows(calibSeqs, loaded.spec.maxLen);
  if (windows.length === 0) throw new InspectorError('the calibration input has no tokens');
  const fp = logitsOf(loaded, evalSeqs);
  const quantized = quantizeModel(loaded.model, input(loaded, windows), opts);
  const end = compareLogits(fp, logitsOf(loaded, evalSeqs), evalSeqs);
  const report: QuantizeReport = {
    method: opts.method,
    bits: opts.bits,
    group: opts.group ?? null,
    sym: opts.sym ?? false,
    calib_tokens: quantized.calib_tokens,
    layers: quantized.layers,
    unreached: quantized.unreached,
    ...end,
    weights_bytes: quantized.weights_bytes,
    weights_bytes_fp: quantized.weights_bytes_fp,
  };
  return { quantized, report };
}

export function parseQuantOptions(values: Record<string, string | boolean | undefined>): QuantOptions {
  const method = values.method as string | undefined;
  if (!method) throw new InspectorError(`quantize needs --method\n${QUANTIZE_USAGE}`);
  if (!(QUANT_METHODS as readonly string[]).includes(method)) throw new InspectorError(`unknown --method '${method}' (have: ${QUANT_METHODS.join(', ')})`);
  const eightBit = method === 'int8' || method === 'llm-int8';
  const bitsText = values.bits as string | undefined;
  if (bitsText !== undefined && !/^\d+$/.test(bitsText)) throw new InspectorError(`--bits must be an integer from 2 to 8, got '${bitsText}'`);
  const bits = bitsText !== undefined ? Number(bitsText) : eightBit ? 8 : 4;
  if (bits < 2 || bits > 8) throw new InspectorError(`--bits must be an integer from 2 to 8, got ${bits}`);
  const group = values.group !== undefined ? parsePositiveInt(values.group as string, '--group', 0) : undefined;
  if (group === 0) throw new InspectorError('--group must be a positive number of input columns');
  const thresholdText = values.threshold as string | undefined;
  const threshold = thresholdText === undefined ? undefined : thresholdText === 'inf' ? Infinity : Number(thresholdText);
  if (threshold !== undefined && !(threshold >= 0)) throw new InspectorError(`--threshold must be a number ≥ 0 or 'inf', got '${thresholdText}'`);
  return {
    method: method as QuantMethod,
    bits,
    group,
    sym: values.sym === true,
    perTensor: values['per-tensor'] === true,
    threshold,
    actOrder: values['act-order'] === true,
    clip: values['no-clip'] !== true,
  };
}

function parseQuantizeArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      method: { type: 'string' },
      bits: { type: 'string' },
      group: { type: 'string' },
      sym: { type: 'boolean' },
      'per-tensor': { type: 'boolean' },
      threshold: { type: 'string' },
      'act-order': { type: 'boolean' },
      'no-clip': { type: 'boolean' },
      'calib-text': { type: 'string' },
      'calib-file': { type: 'string' },
      'calib-ids': { type: 'string' },
      'eval-text': { type: 'string' },
      'eval-file': { type: 'string' },
      'eval-ids': { type: 'string' },
      json: { type: 'boolean' },
      seeded: { type: 'boolean' },
      out: { type: 'string' },
      hooks: { type: 'boolean' },
    },
  });
}

const fmt = (v: number, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

export function runQuantize(argv: string[], out: (s: string) => void = console.log): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(QUANTIZE_USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseQuantizeArgs(argv);
  } catch (e) {
    throw new InspectorError(`${(e as Error).message}\n${QUANTIZE_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new InspectorError(`quantize takes one PATH\n${QUANTIZE_USAGE}`);
  const opts = parseQuantOptions(values);
  const loaded = loadModel(positionals[0], { weights: values.seeded ? 'seeded' : 'auto' });
  const calib = sequencesFrom(loaded, values, 'calib') ?? tokenizeLines(loaded, CALIBRATION_SAMPLE, 'the bundled calibration sample');
  const evalSeqs = sequencesFrom(loaded, values, 'eval') ?? calib;
  if (values.out !== undefined && opts.method !== 'gptq' && opts.method !== 'rtn' && opts.method !== 'awq') {
    throw new InspectorError(`--out writes checkpoints of --method gptq, rtn or awq; ${opts.method} is not written`);
  }
  // A checkpoint can only carry AWQ scales that fold into a norm.
  if (values.out !== undefined && opts.method === 'awq') opts.foldableOnly = true;
  const { report, quantized } = quantizeAndMeasure(loaded, opts, calib, evalSeqs);
  const written = values.out !== undefined ? writeQuantizedCheckpoint(values.out, loaded, quantized) : [];
  const hooks = values.hooks ? compareHooks(loaded.model, quantized, input(loaded, [evalSeqs[0]])).map((h) => ({ name: h.name, rel_error: h.rel_error })) : undefined;
  if (values.json) {
    out(JSON.stringify(hooks ? { ...report, hooks } : report, null, 1));
    return 0;
  }
  out(`model       ${loaded.configPath}`);
  out(`method      ${opts.method}, ${opts.bits} bits${opts.group ? `, groups of ${opts.group}` : ''}${opts.sym ? ', symmetric' : ''}`);
  out(`calibration ${report.calib_tokens} tokens; evaluation ${report.eval_tokens} predicted tokens`);
  out('');
  const width = Math.max(...report.layers.map((l) => l.name.length), 5);
  out(`  ${'layer'.padEnd(width)}  ‖W−Ŵ‖/‖W‖  ‖XW−XŴ‖/‖XW‖  extra`);
  for (const l of report.layers) {
    const extra = l.outlier_dims ? `outlier dims ${l.outlier_dims.length ? l.outlier_dims.join(',') : 'none'}` : l.alpha !== undefined ? `α = ${l.alpha}` : '';
    out(`  ${l.name.padEnd(width)}  ${fmt(l.weight_rel_error, 5).padStart(10)}  ${fmt(l.output_rel_error, 5).padStart(13)}  ${extra}`);
  }
  if (report.unreached.length) out(`  not reached by the calibration input (left in float): ${report.unreached.join(', ')}`);
  out('');
  out(`perplexity  fp ${fmt(report.perplexity_fp)} → quantized ${fmt(report.perplexity_q)}`);
  out(`KL mean     ${fmt(report.kl_mean, 6)} nats; top-1 agreement ${(report.top1_agreement * 100).toFixed(2)}%`);
  out(`weights     ${report.weights_bytes_fp.toLocaleString('en-US')} bytes fp32 → ${report.weights_bytes.toLocaleString('en-US')} bytes`);
  if (hooks) {
    out('');
    out('activations of the first evaluation sequence, ‖a−â‖/‖a‖');
    const w = Math.max(...hooks.map((h) => h.name.length));
    for (const h of hooks) out(`  ${h.name.padEnd(w)}  ${fmt(h.rel_error, 6)}`);
  }
  if (written.length) out(`wrote       ${written.join(', ')}`);
  return 0;
}
