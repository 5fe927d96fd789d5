/**
 * The Quantization view's numbers: the end-to-end figures (perplexity float vs quantized, KL, top-1
 * agreement, weight memory) and the per-layer bar chart of ‖W−Ŵ‖/‖W‖ and ‖XW−XŴ‖/‖XW‖ with the
 * outlier dimensions (LLM.int8()) or α (AWQ). Pure formatting: every number is the engine's.
 */
import type { QuantLayerReport, QuantReport } from '../../protocol/quant';
import { h } from '../dom';
import { exactBytes, formatValue, humanBytes } from '../format';

const METHOD_NAMES: Record<QuantReport['method'], string> = {
  int8: 'int8 absmax per channel',
  rtn: 'Round to nearest',
  'llm-int8': 'LLM.int8()',
  gptq: 'GPTQ',
  awq: 'AWQ',
};

export function gridText(r: QuantReport): string {
  if (r.method === 'int8' || r.method === 'llm-int8') return '8-bit';
  return `${r.bits}-bit, ${r.group ? `groups of ${r.group}` : 'whole rows'}${r.sym ? ', symmetric' : ''}`;
}

export function quantTitle(r: QuantReport): string {
  return `${METHOD_NAMES[r.method]} · ${gridText(r)}`;
}

const pct = (v: number, d = 2) => `${(v * 100).toFixed(d)}%`;

/** Perplexity, KL, agreement and memory, float beside quantized. */
export function endToEnd(r: QuantReport): HTMLElement {
  const row = (label: string, fp: string, q: string, testId?: string) =>
    h(
      'tr',
      {},
      h('th', { text: label, attrs: { scope: 'row' } }),
      h('td', { text: fp }),
      h('td', { text: q, attrs: { 'data-testid': testId } }),
    );
  const saved = 1 - r.weights_bytes / r.weights_bytes_fp;
  return h(
    'div',
    { class: 'quant-figures' },
    h(
      'table',
      { class: 'quant-table' },
      h('thead', {}, h('tr', {}, h('th', {}), h('th', { text: 'float' }), h('th', { text: 'quantized' }))),
      h(
        'tbody',
        {},
        row(
          'Perplexity',
          formatValue(r.perplexity_fp, 5),
          formatValue(r.perplexity_q, 5),
          'quant-perplexity',
        ),
        row(
          'Weight memory',
          humanBytes(Math.round(r.weights_bytes_fp)),
          `${humanBytes(Math.round(r.weights_bytes))} (−${pct(saved, 1)})`,
          'quant-memory',
        ),
      ),
    ),
    h(
      'dl',
      { class: 'quant-facts' },
      h('dt', { text: 'Mean KL(p_fp ‖ p_q)' }),
      h('dd', { text: `${formatValue(r.kl_mean, 4)} nats`, attrs: { 'data-testid': 'quant-kl' } }),
      h('dt', { text: 'Top-1 agreement' }),
      h('dd', { text: pct(r.top1_agreement), attrs: { 'data-testid': 'quant-top1' } }),
      h('dt', { text: 'Calibration' }),
      h('dd', {
        text: `${r.calib_tokens} tokens from ${r.calibration}`,
        attrs: { 'data-testid': 'quant-calib-tokens', 'data-tokens': r.calib_tokens },
      }),
      h('dt', { text: 'Evaluated on' }),
      h('dd', { text: `${r.eval_tokens} predicted tokens of the calibration text` }),
    ),
  );
}

function extraOf(l: QuantLayerReport): { text: string; title?: string } {
  if (l.outlier_dims) {
    const n = l.outlier_dims.length;
    return {
      text: n === 0 ? 'no outliers' : `${n} outlier dim${n === 1 ? '' : 's'}`,
      title: n ? `computed in float: ${l.outlier_dims.join(', ')}` : undefined,
    };
  }
  if (l.alpha !== undefined) return { text: `α = ${formatValue(l.alpha, 3)}` };
  return { text: '' };
}

function barCell(value: number, max: number, kind: 'weight' | 'output'): HTMLElement {
  const fill = h('span', { class: `quant-bar-fill quant-bar-${kind}` });
  fill.style.width = `${max > 0 && value > 0 ? Math.max(1, (value / max) * 100) : 0}%`;
  return h(
    'td',
    { class: 'quant-bar-cell' },
    h('span', { class: 'quant-bar' }, fill),
    h('span', { class: 'quant-bar-value', text: formatValue(value, 3) }),
  );
}

/** One row per linear layer, bars scaled to the largest error of their column. */
export function layerChart(r: QuantReport): HTMLElement {
  const maxW = Math.max(0, ...r.layers.map((l) => l.weight_rel_error));
  const maxO = Math.max(0, ...r.layers.map((l) => l.output_rel_error));
  const rows = r.layers.map((l) => {
    const extra = extraOf(l);
    return h(
      'tr',
      {
        attrs: { 'data-testid': 'quant-layer', 'data-name': l.name, 'data-output-error': l.output_rel_error },
      },
      h('th', {
        class: 'quant-layer-name',
        text: l.name,
        attrs: { scope: 'row', title: `${l.shape[0]} × ${l.shape[1]}` },
      }),
      barCell(l.weight_rel_error, maxW, 'weight'),
      barCell(l.output_rel_error, maxO, 'output'),
      h('td', { class: 'quant-extra', text: extra.text, attrs: { title: extra.title } }),
    );
  });
  return h(
    'div',
    { class: 'quant-layers' },
    h('h3', { class: 'section-title', text: `Per layer (${r.layers.length} linears)` }),
    h(
      'table',
      { class: 'quant-chart', attrs: { 'aria-label': 'Quantization error per linear layer' } },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { text: 'layer' }),
          h('th', { text: 'weight ‖W−Ŵ‖/‖W‖', attrs: { title: 'relative error of the weight' } }),
          h('th', {
            text: 'output ‖XW−XŴ‖/‖XW‖',
            attrs: { title: 'relative error of the layer output on the calibration inputs it received' },
          }),
          h('th', {
            text: r.method === 'llm-int8' ? 'outliers (|x| ≥ α)' : r.method === 'awq' ? 'AWQ α' : '',
          }),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
    r.unreached.length
      ? h('p', {
          class: 'hint',
          text: `Not reached by the calibration input (left in float): ${r.unreached.join(', ')}.`,
        })
      : null,
  );
}

/** The parameter tab's line on weight memory before and after. */
export function quantMemory(r: QuantReport | undefined): HTMLElement | null {
  if (!r) return null;
  return h(
    'p',
    { class: 'quant-memory-line', attrs: { 'data-testid': 'params-quant-memory' } },
    h('strong', { text: 'Quantized weights: ' }),
    `${humanBytes(Math.round(r.weights_bytes))} (${exactBytes(Math.round(r.weights_bytes))}) after ${quantTitle(r)}, from ${humanBytes(Math.round(r.weights_bytes_fp))} in fp32 — codes at their bit width, fp16 scales and zero points; embeddings, norms and the head stay fp32.`,
  );
}
