// The Analyses tab's pure parts: labels and windows, the form's requests, the state it keeps
// (its DOM is checked in a browser by webview/dev/check.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalysisReply, AnalysisView } from '../../protocol/analyses';
import { formRequest, newForm } from '../../webview/components/analyses/analyses-view';
import { attributionSum, componentLabel } from '../../webview/components/analyses/attribution-view';
import { topShift } from '../../webview/components/analyses/ablation-view';
import { bestHead } from '../../webview/components/analyses/heads-view';
import {
  lensCell,
  lensRowLabel,
  lensWindow,
  parseHeadKeys,
  patternHook,
  percentText,
  strongest,
  tokenLabel,
} from '../../webview/components/analyses/labels';
import { patchCellText } from '../../webview/components/analyses/patching-view';
import { initialState, reduce, toPanelState } from '../../webview/state';
import { model } from './webview-fixtures';

const lens: Extract<AnalysisView, { analysis: 'lens' }> = {
  analysis: 'lens',
  hooks: ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post'],
  positions: 2,
  k: 2,
  // [depth, position, k]
  topIds: Int32Array.from([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
  topProbs: Float32Array.from([0.5, 0.2, 0.6, 0.1, 0.3, 0.2, 0.4, 0.3, 0.9, 0.05, 0.7, 0.1]),
};

test('lens rows are read as layers, the embeddings first; cells give their top-k', () => {
  assert.deepEqual(lens.hooks.map(lensRowLabel), ['embed', 'L0', 'L1']);
  assert.equal(lensRowLabel('blocks.4.hook_resid_mid'), 'L4 mid');
  assert.equal(lensRowLabel('hook_embed'), 'embed');
  assert.deepEqual(
    lensCell(lens, 2, 1).map((x) => x.id),
    [15, 16],
  );
  assert.ok(Math.abs(lensCell(lens, 1, 0)[0].prob - 0.3) < 1e-7);
});

test('the lens pages long inputs by windows that stay inside the positions', () => {
  assert.deepEqual(lensWindow(10, 0), [0, 10]);
  assert.deepEqual(lensWindow(4096, 0), [0, 32]);
  assert.deepEqual(lensWindow(4096, 64), [64, 96]);
  assert.deepEqual(lensWindow(4096, 5000), [4064, 4096]);
  assert.deepEqual(lensWindow(4096, -32), [0, 32]);
});

test('labels, head keys, the strongest components, probabilities in words', () => {
  const labels = new Map([[3, ' light']]);
  assert.equal(tokenLabel(labels, 3), '␣light');
  assert.equal(tokenLabel(labels, 4), '#4');
  assert.deepEqual(parseHeadKeys(['3.0', '2.1', 'bad', '2.0']), [
    { layer: 2, head: 0 },
    { layer: 2, head: 1 },
    { layer: 3, head: 0 },
  ]);
  assert.equal(patternHook(2), 'blocks.2.attn.hook_pattern');
  assert.deepEqual(
    strongest([{ value: 0.1 }, { value: -3 }, { value: 2 }], 2).map((x) => x.value),
    [-3, 2],
  );
  assert.equal(percentText(0.4213), '42.1%');
  assert.equal(percentText(0.0003), '0.03%');
  assert.equal(percentText(0.00001), '<0.01%');
});

test('attribution: component names, and the bars plus biases add up to the total', () => {
  const view: Extract<AnalysisView, { analysis: 'attribution' }> = {
    analysis: 'attribution',
    position: 4,
    target: 3,
    logit: 2.5,
    total: 2.5,
    normScale: 0.5,
    components: [
      { name: 'hook_embed', kind: 'embed', value: 1 },
      { name: 'blocks.0.attn.head.1', kind: 'head', layer: 0, head: 1, attention: 'self', value: 0.75 },
      { name: 'blocks.0.hook_mlp_out', kind: 'mlp', layer: 0, value: 0.5 },
    ],
    biases: [{ name: 'b_U', value: 0.25 }],
  };
  assert.deepEqual(view.components.map(componentLabel), ['embed', 'L0 H1', 'L0 MLP']);
  assert.deepEqual(attributionSum(view), { sum: 2.5, matches: true });
  assert.equal(attributionSum({ ...view, total: 2.6 }).matches, false);
});

test('detectors: the best head; ablation: how far the top token moved', () => {
  assert.deepEqual(
    bestHead([
      [0.1, 0.2],
      [0.66, 0.3],
    ]),
    [1, 0, 0.66],
  );
  assert.equal(bestHead([]), undefined);
  const ablation: Extract<AnalysisView, { analysis: 'ablation' }> = {
    analysis: 'ablation',
    firstLayer: 2,
    replaced: ['blocks.2.attn.hook_z'],
    maxAbsDelta: 1,
    meanAbsDelta: 0.5,
    top: [
      {
        position: 0,
        before: [{ id: 1, prob: 0.5 }],
        after: [
          { id: 2, prob: 0.6 },
          { id: 1, prob: 0.25 },
        ],
      },
      { position: 1, before: [{ id: 3, prob: 0.4 }], after: [{ id: 4, prob: 0.9 }] },
    ],
  };
  assert.deepEqual(topShift(ablation), [-0.25, -0.4]);
});

test('patching cells in words', () => {
  const view: Extract<AnalysisView, { analysis: 'patching' }> = {
    analysis: 'patching',
    what: 'resid',
    hooks: ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre'],
    rows: 2,
    cols: 3,
    values: Float32Array.from([0, 0, 0, 0.25, 1, 0]),
    clean: 2,
    corrupted: 1,
  };
  assert.equal(
    patchCellText(view, { row: 1, col: 1 }, ['a', ' b', 'c']),
    'blocks.1.hook_resid_pre · position 1 (␣b): 1 of the way from corrupted to clean',
  );
  assert.match(patchCellText({ ...view, what: 'heads' }, { row: 1, col: 0 }, []), /head 0: 0.25/);
});

test("the form's requests: typed tokens go as text, missing inputs are said", () => {
  const form = newForm();
  const s = reduce(initialState(), { type: 'ui/toggleAblateHead', layer: 2, head: 1 });
  assert.deepEqual(formRequest('lens', form, s), { type: 'analyse', request: { analysis: 'lens', top: 5 } });
  assert.deepEqual(formRequest('heads', form, s), { type: 'analyse', request: { analysis: 'heads' } });
  assert.match(formRequest('attribution', form, s) as string, /Type the target/);
  assert.match(formRequest('patching', form, s) as string, /corrupted input/);
  assert.deepEqual(formRequest('ablation', form, s), {
    type: 'analyse',
    request: { analysis: 'ablation', heads: [{ layer: 2, head: 1 }], mode: 'zero', top: 5 },
  });
  assert.match(formRequest('ablation', form, initialState()) as string, /Choose heads/);
  Object.assign(form, { target: ' light', versus: ' dark', corrupted: 'And God said', what: 'heads' });
  assert.deepEqual(formRequest('attribution', form, s), {
    type: 'analyse',
    request: { analysis: 'attribution', target: 0 },
    texts: { target: ' light', versus: ' dark' },
  });
  assert.deepEqual(formRequest('patching', form, s), {
    type: 'analyse',
    request: { analysis: 'patching', corrupted: [], target: 0, versus: 0, what: 'heads' },
    texts: { target: ' light', versus: ' dark', corrupted: 'And God said' },
  });
});

test('state: answers kept per analysis until the input changes; chosen heads toggle; the choice is saved', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  assert.equal(s.analysis, 'lens');
  const reply: AnalysisReply = { kind: 'analysis', view: lens, labels: [[5, 'a']] };
  s = reduce({ ...s, error: { message: 'old' } }, { type: 'analysis', request: { analysis: 'lens' }, reply });
  assert.equal(s.analyses.lens?.reply, reply);
  assert.equal(s.error, undefined, 'an answer clears the last failure');
  s = reduce(s, { type: 'ui/toggleAblateHead', layer: 2, head: 1 });
  s = reduce(s, { type: 'ui/toggleAblateHead', layer: 0, head: 3 });
  s = reduce(s, { type: 'ui/toggleAblateHead', layer: 2, head: 1 });
  assert.deepEqual(s.ablateHeads, ['0.3']);
  s = reduce(s, { type: 'ui/analysis', analysis: 'heads' });
  assert.deepEqual(toPanelState(s).analysis, 'heads');
  assert.equal(initialState({ analysis: 'heads', tab: 'analyses' }).analysis, 'heads');
  // A new input (the model message) drops the answers; the same config keeps the chosen heads.
  s = reduce(s, { type: 'model', model, steps: [] });
  assert.deepEqual(s.analyses, {});
  assert.deepEqual(s.ablateHeads, ['0.3']);
  s = reduce(s, { type: 'model', model: { ...model, configPath: '/other/config.json' }, steps: [] });
  assert.deepEqual(s.ablateHeads, []);
});

test('a pinned query row is kept on the same step and dropped on another', () => {
  let s = reduce(initialState(), { type: 'ui/pinQuery', query: 3 });
  assert.equal(s.pinnedQuery, 3);
  s = reduce(s, { type: 'ui/pinQuery', query: undefined });
  assert.equal(s.pinnedQuery, undefined);
});

test('a pinned query reads its row of the head, masked keys left out, strongest first', async () => {
  const { queryRow, strongestKeys, queryOfRow } = await import('../../webview/components/attention-pin');
  // 2 heads × 3 queries × 3 keys, causal mask.
  const data = Float32Array.from([
    1, 0, 0, 0.25, 0.75, 0, 0.5, 0.125, 0.375, 1, 0, 0, 0.9, 0.1, 0, 0.2, 0.3, 0.5,
  ]);
  const mask = Uint8Array.from([1, 0, 0, 1, 1, 0, 1, 1, 1]);
  const view = {
    kind: 'attention' as const,
    heads: 2,
    queries: 3,
    keys: 3,
    data,
    mask,
    queryLabels: ['a', 'b', 'c'],
    keyLabels: ['a', 'b', 'c'],
  };
  const row = queryRow(view, 0, 1);
  assert.deepEqual(Array.from(row.subarray(0, 2)), [0.25, 0.75]);
  assert.ok(Number.isNaN(row[2]), 'a masked key is not read');
  assert.deepEqual(strongestKeys(queryRow(view, 1, 2), 2), [
    [2, 0.5],
    [1, Math.fround(0.3)],
  ]);
  assert.equal(queryOfRow({ rows: 2, cols: 2, data, rowBands: [0, 2, 3], colBands: [0, 2, 3] }, 1), 2);
});
