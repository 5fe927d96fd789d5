import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromWebview } from '../../protocol/webview';
import type { QuantReport, QuantStep } from '../../protocol/quant';
import { initialState, isToWebview, reduce, restorePanelState, toPanelState } from '../../webview/state';
import { matrixStep, model } from './webview-fixtures';

const report: QuantReport = {
  method: 'gptq',
  bits: 4,
  group: 32,
  sym: false,
  calibration: 'the current input',
  calib_tokens: 12,
  eval_tokens: 11,
  layers: [{ name: 'model.layers.0.self_attn.q_proj', shape: [128, 128], weight_rel_error: 0.1, output_rel_error: 0.04 }],
  unreached: [],
  perplexity_fp: 11.7,
  perplexity_q: 11.9,
  kl_mean: 0.01,
  top1_agreement: 0.93,
  weights_bytes: 1_100_000,
  weights_bytes_fp: 3_000_000,
};

const view = { kind: 'matrix' as const, rows: 1, cols: 2, data: new Float32Array([1, 2]), colIndex: [0, 1], fullCols: 2, rowLabels: ['a'], colName: 'd_model' };
const quantStep: QuantStep = { name: 'hook_embed', index: 0, rel_error: 0, max_abs_diff: 0, fp: view, quantized: view, diff: { ...view, data: new Float32Array(2) } };

test('host messages: the Quantization tab and the Quantize command are accepted, nothing else new', () => {
  assert.deepEqual(parseFromWebview({ type: 'showTab', tab: 'quant' }), { type: 'showTab', tab: 'quant' });
  assert.deepEqual(parseFromWebview({ type: 'command', command: 'quantizeModel' }), { type: 'command', command: 'quantizeModel' });
  assert.deepEqual(parseFromWebview({ type: 'ready', state: { tab: 'quant' } }), { type: 'ready', state: { tab: 'quant' } });
  for (const bad of [
    { type: 'showTab', tab: 'quantization' },
    { type: 'command', command: 'quantize' },
    { type: 'ready', state: { tab: 'QUANT' } },
    { type: 'quant', report },
    { type: 'quantize', spec: { method: 'gptq', bits: 4 } },
  ]) {
    assert.equal(parseFromWebview(bad), undefined, JSON.stringify(bad));
  }
});

test('webview state: the report and the compared step are kept, the report going drops both', () => {
  assert.ok(isToWebview({ type: 'quant', report }) && isToWebview({ type: 'quantStep', step: quantStep }));
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  s = reduce(s, { type: 'busy', message: 'Quantizing…' });
  s = reduce(s, { type: 'quant', report });
  assert.equal(s.quant, report);
  assert.equal(s.busy, undefined, 'the report ends the busy state');
  s = reduce(s, { type: 'showTab', tab: 'quant' });
  s = reduce(s, { type: 'step', step: matrixStep(0) });
  s = reduce(s, { type: 'quantStep', step: quantStep });
  assert.equal(s.quantStep, quantStep);
  assert.equal(s.tab, 'quant');
  assert.equal(restorePanelState(toPanelState(s))?.tab, 'quant', 'the tab survives a reload');
  s = reduce(s, { type: 'quant', report: { ...report, method: 'awq' } });
  assert.equal(s.quantStep, undefined, 'a new report waits for its own comparison');
  s = reduce(s, { type: 'quant' });
  assert.equal(s.quant, undefined);
});
