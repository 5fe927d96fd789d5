import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FromWebview, PanelState } from '../../protocol/webview';
import {
  Store,
  initialState,
  isToWebview,
  reduce,
  restorePanelState,
  toPanelState,
  type WebviewApi,
} from '../../webview/state';
import { attentionStep, matrixStep, model } from './webview-fixtures';

function fakeApi(saved?: unknown) {
  const sent: FromWebview[] = [];
  const states: PanelState[] = [];
  const api: WebviewApi = {
    postMessage: (m) => sent.push(m),
    getState: () => saved,
    setState: (s) => states.push(s),
  };
  return { api, sent, states };
}

test('a model then steps: position follows the step, errors and busy clear', () => {
  let s = initialState();
  assert.equal(s.position.index, -1);
  s = reduce(s, { type: 'busy', message: 'Loading weights', progress: 0.3 });
  assert.deepEqual(s.busy, { message: 'Loading weights', progress: 0.3 });
  s = reduce(s, { type: 'model', model, steps: [{ name: 'hook_embed', shape: [1, 5, 16] }] });
  assert.equal(s.busy, undefined);
  assert.equal(s.model, model);
  assert.equal(s.step, undefined);
  s = reduce(s, { type: 'error', message: 'boom', where: 'blocks.0.attn' });
  assert.deepEqual(s.error, { message: 'boom', where: 'blocks.0.attn' });
  assert.equal(s.model, model, 'an error keeps what was loaded');
  s = reduce(s, { type: 'step', step: matrixStep(2, 3, false) });
  assert.equal(s.error, undefined);
  assert.deepEqual(s.position, { index: 2, computed: 3, done: false });
  s = reduce(s, { type: 'beforeFirstStep', computed: 3, done: false });
  assert.equal(s.step, undefined);
  assert.deepEqual(s.position, { index: -1, computed: 3, done: false });
});

test('empty clears everything but the tab', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  s = reduce(s, { type: 'showTab', tab: 'params' });
  s = reduce(s, { type: 'empty', message: 'No model open' });
  assert.equal(s.model, undefined);
  assert.deepEqual(s.empty, { message: 'No model open' });
  assert.equal(s.tab, 'params');
  s = reduce(s, { type: 'model', model, steps: [] });
  assert.equal(s.empty, undefined);
});

test('the selected head is clamped to the heads of the current step', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  s = reduce(s, { type: 'step', step: attentionStep(5, 4) });
  s = reduce(s, { type: 'ui/selectHead', head: 3 });
  assert.equal(s.selectedHead, 3);
  s = reduce(s, { type: 'ui/selectHead', head: 9 });
  assert.equal(s.selectedHead, 3);
  s = reduce(s, { type: 'step', step: attentionStep(6, 2) });
  assert.equal(s.selectedHead, 1);
  s = reduce(s, { type: 'step', step: matrixStep(7) });
  assert.equal(s.selectedHead, 1, 'a matrix step leaves the choice for the next attention step');
});

test('unchanged actions return the same object (no re-render)', () => {
  const s = reduce(initialState(), { type: 'showTab', tab: 'step' });
  assert.equal(reduce(s, { type: 'showTab', tab: 'step' }), s);
  assert.equal(reduce(s, { type: 'ui/selectHead', head: 0 }), s);
});

test('a new model resets the head and drops the old parameters; the same model keeps them', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  s = reduce(s, { type: 'params', params: { rows: [], totals: [], memory: [] } });
  s = reduce(s, { type: 'step', step: attentionStep(1) });
  s = reduce(s, { type: 'ui/selectHead', head: 2 });
  const again = reduce(s, { type: 'model', model: { ...model, tokens: ['a'] }, steps: [] });
  assert.equal(again.selectedHead, 2);
  assert.ok(again.params);
  const other = reduce(s, { type: 'model', model: { ...model, configPath: '/other.json' }, steps: [] });
  assert.equal(other.selectedHead, 0);
  assert.equal(other.params, undefined);
});

test('the panel state holds config path, step index, head and tab', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  s = reduce(s, { type: 'step', step: matrixStep(4) });
  s = reduce(s, { type: 'showTab', tab: 'params' });
  assert.deepEqual(toPanelState(s), {
    configPath: model.configPath,
    stepIndex: 4,
    selectedHead: 0,
    tab: 'params',
  });
});

test('saved state is validated before use', () => {
  assert.deepEqual(restorePanelState({ tab: 'params', stepIndex: 3 }), { tab: 'params', stepIndex: 3 });
  assert.equal(restorePanelState({ tab: 'nope' }), undefined);
  assert.equal(restorePanelState({ stepIndex: -1 }), undefined);
  assert.equal(restorePanelState('junk'), undefined);
  assert.equal(restorePanelState(undefined), undefined);
  assert.equal(restorePanelState(null), undefined);
});

test('the store restores, announces ready with the saved state, and persists changes', () => {
  const saved: PanelState = { configPath: model.configPath, stepIndex: 2, selectedHead: 1, tab: 'params' };
  const { api, sent, states } = fakeApi(saved);
  const store = new Store(api);
  assert.equal(store.state.tab, 'params');
  assert.equal(store.state.selectedHead, 1);
  store.start();
  assert.deepEqual(sent, [{ type: 'ready', state: saved }]);
  let renders = 0;
  store.subscribe(() => renders++);
  store.dispatch({ type: 'model', model, steps: [] });
  assert.equal(store.state.selectedHead, 1, 'same config: the saved head survives');
  store.dispatch({ type: 'step', step: attentionStep(2) });
  assert.deepEqual(states.at(-1), saved);
  store.select({ type: 'ui/selectTab', tab: 'step' });
  assert.deepEqual(sent.at(-1), { type: 'showTab', tab: 'step' });
  store.select({ type: 'ui/selectHead', head: 3 });
  assert.deepEqual(sent.at(-1), { type: 'selectHead', head: 3 });
  assert.deepEqual(states.at(-1), { ...saved, tab: 'step', selectedHead: 3 });
  const before = sent.length;
  store.select({ type: 'ui/selectHead', head: 3 });
  assert.equal(sent.length, before, 'no message when nothing changed');
  assert.equal(renders, 4);
});

test('a fresh store says ready without state and survives junk saved state', () => {
  const { api, sent } = fakeApi({ tab: 42 });
  const store = new Store(api);
  store.start();
  assert.deepEqual(sent, [{ type: 'ready' }]);
  assert.equal(store.state.tab, 'step');
});

test('only protocol messages are taken from the window', () => {
  assert.ok(isToWebview({ type: 'step', step: matrixStep(0) }));
  assert.ok(!isToWebview({ type: 'ready' }));
  assert.ok(!isToWebview(null));
  assert.ok(!isToWebview('step'));
});

test('the host selects a head (the sidebar): kept until the attention step arrives, then clamped', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  s = reduce(s, { type: 'step', step: matrixStep(1) });
  s = reduce(s, { type: 'showTab', tab: 'params' });
  s = reduce(s, { type: 'showTab', tab: 'step' });
  s = reduce(s, { type: 'selectHead', head: 2 });
  assert.equal(s.tab, 'step');
  assert.equal(s.selectedHead, 2);
  s = reduce(s, { type: 'step', step: attentionStep(5, 4) });
  assert.equal(s.selectedHead, 2);
  s = reduce(s, { type: 'selectHead', head: 7 });
  assert.equal(s.selectedHead, 3, 'clamped to the heads of the step shown');
  assert.equal(isToWebview({ type: 'selectHead', head: 1 }), true);
});

test('the overview is kept until a new model message; modes and log counts are UI choices', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  assert.equal(s.attentionMode, 'heatmap');
  s = reduce(s, { type: 'ui/attentionMode', mode: 'overview' });
  const overview = {
    layers: [{ name: 'blocks.0.attn.hook_pattern', heads: 1, rows: 1, cols: 1, data: Float32Array.of(1) }],
  };
  s = reduce(s, { type: 'overview', overview });
  assert.equal(s.overview, overview);
  s = reduce(s, { type: 'step', step: attentionStep(5, 4) });
  assert.equal(s.overview, overview, 'stepping keeps it');
  s = reduce(s, { type: 'model', model, steps: [] });
  assert.equal(s.overview, undefined, 'a new input needs a new overview');
  assert.equal(s.attentionMode, 'overview');
  s = reduce(s, { type: 'ui/logCounts', on: true });
  assert.equal(s.logCounts, true);
  assert.equal(reduce(s, { type: 'ui/logCounts', on: true }), s);
});

test('the attention mode is kept in the saved panel state (heatmap, the default, is left out)', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  assert.equal(toPanelState(s).attentionMode, undefined);
  s = reduce(s, { type: 'ui/attentionMode', mode: 'lines' });
  const saved = toPanelState(s);
  assert.equal(saved.attentionMode, 'lines');
  assert.equal(initialState(restorePanelState(saved)).attentionMode, 'lines');
  assert.equal(
    restorePanelState({ ...saved, attentionMode: 'bogus' }),
    undefined,
    'a malformed saved state is dropped',
  );
});
