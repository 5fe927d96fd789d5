import type { QuantReport } from '../../protocol/quant';
/**
 * A quantization report (`quantize --json`, or the engine's reply to Quantize Model…) as Markdown, written
 * to the output channel after each quantization: the end-to-end figures, then one row per linear layer with bars for its weight and output
 * errors, scaled to the largest error. Pure formatting: every number comes from the engine's report.
 */
/** The `quantize --json` report (the engine's QuantReport, without the panel's calibration label). */
export type QuantizeReportJson = Omit<QuantReport, 'calibration' | 'unreached' | 'method'> & { method: string; unreached?: string[] };

const BAR_WIDTH = 24;

export function bar(value: number, max: number): string {
  if (!(max > 0) || !(value > 0)) return '';
  const cells = Math.max(1, Math.round((value / max) * BAR_WIDTH));
  return '█'.repeat(Math.min(cells, BAR_WIDTH));
}

const num = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

export function renderQuantizeReport(modelPath: string, r: QuantizeReportJson): string {
  const grid = `${r.bits}-bit${r.group ? `, groups of ${r.group}` : ''}${r.sym ? ', symmetric' : ''}`;
  const maxW = Math.max(...r.layers.map((l) => l.weight_rel_error), 0);
  const maxO = Math.max(...r.layers.map((l) => l.output_rel_error), 0);
  const lines = [
    `# Quantization: ${r.method} (${grid})`,
    '',
    `\`${modelPath}\` — calibration ${r.calib_tokens} tokens, evaluation ${r.eval_tokens} predicted tokens.`,
    '',
    '| | float | quantized |',
    '| --- | --- | --- |',
    `| perplexity | ${num(r.perplexity_fp, 4)} | ${num(r.perplexity_q, 4)} |`,
    `| weights | ${mib(r.weights_bytes_fp)} | ${mib(r.weights_bytes)} |`,
    '',
    `Mean KL(p_fp ‖ p_q) of the next-token distributions: ${num(r.kl_mean, 6)} nats; top-1 agreement ${num(r.top1_agreement * 100, 2)}%.`,
    '',
    '| layer | shape | ‖W−Ŵ‖/‖W‖ | | ‖XW−XŴ‖/‖XW‖ | | |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const l of r.layers) {
    const extra = l.outlier_dims ? `${l.outlier_dims.length} outlier dims` : l.alpha !== undefined ? `α = ${l.alpha}` : '';
    lines.push(`| \`${l.name}\` | ${l.shape[0]} × ${l.shape[1]} | ${num(l.weight_rel_error, 5)} | ${bar(l.weight_rel_error, maxW)} | ${num(l.output_rel_error, 5)} | ${bar(l.output_rel_error, maxO)} | ${extra} |`);
  }
  if (r.unreached?.length) lines.push('', `Not reached by the calibration input (left in float): ${r.unreached.map((n) => `\`${n}\``).join(', ')}.`);
  return lines.join('\n') + '\n';
}
