// Choosing what to ablate from the sidebar tree and the detector grid (src/inspector/ablation-set.ts, the
// panel's state and form), the messages that carry the set and a patched run, and how the panel names
// the sides of a two-model comparison and a patched run. The ablation run with a set is the engine's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { AblationSet, partOfNode } from '../../src/inspector/ablation-set';
import { parseFromWebview } from '../../protocol/webview';
import { formRequest, newForm, ablationText } from '../../webview/components/analyses/analyses-view';
import { initialState, reduce } from '../../webview/state';
import { modelName, sideTitles } from '../../webview/components/compare-view';
import { patchedTitle } from '../../webview/components/patched-banner';
import { Session, NO_CONTROL } from '../../engine/worker/session';
import { ablate } from '../../engine/analyses/ablation';
import { loadModel } from '../../engine/model/load';
import type { AnalysisReply } from '../../protocol/analyses';
import type { Loaded } from '../../protocol/worker';
import { walkTree } from '../../protocol/tree';
import { model } from './webview-fixtures';

test('tree nodes → ablation parts: self-attention heads, MLPs and whole layers of the stack that makes the logits', () => {
  assert.deepEqual(partOfNode({ id: 'blocks.2.attn#head1', kind: 'head' }), { kind: 'head', layer: 2, head: 1 });
  assert.deepEqual(partOfNode({ id: 'blocks.0.mlp', kind: 'mlp' }), { kind: 'mlp', layer: 0 });
  assert.deepEqual(partOfNode({ id: 'blocks.1', kind: 'block' }), { kind: 'layer', layer: 1 });
  assert.deepEqual(partOfNode({ id: 'decoder.blocks.1.attn#head3', kind: 'head' }), { kind: 'head', layer: 1, head: 3 });
  assert.match(partOfNode({ id: 'encoder.blocks.0.mlp', kind: 'mlp' }) as string, /decoder .* not of the encoder/);
  assert.match(partOfNode({ id: 'decoder.blocks.0.cross_attn#head0', kind: 'head' }) as string, /self-attention head/);
  assert.match(partOfNode({ id: 'blocks.0.attn', kind: 'attention' }) as string, /choose a self-attention head/);
  assert.match(partOfNode({ id: 'ln_final', kind: 'norm' }) as string, /not a head, an MLP or a layer/);
  // Every head, MLP and block node of tiny-llama's tree is a part.
  const s = new Session();
  const loaded = s.load(resolve('examples/tiny-llama/config.json'), { ids: [1, 2, 3] }, 'auto', NO_CONTROL) as Loaded;
  const parts = [...walkTree(loaded.tree)].map(({ node }) => node).filter((n) => ['head', 'mlp', 'block'].includes(n.kind));
  assert.equal(parts.length, 3 * 4 + 3 + 3);
  assert.ok(parts.every((n) => typeof partOfNode(n) === 'object'));
});

test('the set: added and removed by part, replaced by the panel’s, sorted for the request', () => {
  const set = new AblationSet();
  assert.equal(set.set({ kind: 'head', layer: 2, head: 1 }, true), true);
  assert.equal(set.set({ kind: 'head', layer: 2, head: 1 }, true), false, 'already there');
  set.set({ kind: 'mlp', layer: 1 }, true);
  set.set({ kind: 'head', layer: 0, head: 3 }, true);
  set.set({ kind: 'layer', layer: 2 }, true);
  assert.deepEqual(set.choice(), { heads: ['0.3', '2.1'], mlps: [1], layers: [2] });
  assert.equal(set.describe(), 'L0 H3, L2 H1, MLP 1, layer 2');
  assert.equal(set.has({ kind: 'mlp', layer: 1 }), true);
  assert.equal(set.set({ kind: 'mlp', layer: 1 }, false), true);
  assert.equal(set.has({ kind: 'mlp', layer: 1 }), false);
  // The detector grid toggled a head: the panel sends its whole set.
  assert.equal(set.replace({ heads: ['2.1'], mlps: [], layers: [2] }), true);
  assert.deepEqual(set.choice(), { heads: ['2.1'], mlps: [], layers: [2] });
  assert.equal(set.replace({ heads: ['2.1'], mlps: [], layers: [2] }), false, 'no change');
  assert.equal(set.clear(), true);
  assert.equal(set.size, 0);
});

test('the panel: the host’s set shown, the ablation request carries heads, MLPs and layers; a new config drops it', () => {
  let s = reduce(initialState(), { type: 'model', model, steps: [] });
  s = reduce(s, { type: 'ablation', heads: ['2.1'], mlps: [0], layers: [1] });
  assert.equal(ablationText(s), 'L2 H1, MLP 0, layer 1');
  assert.deepEqual(formRequest('ablation', newForm(), s), {
    type: 'analyse',
    request: { analysis: 'ablation', heads: [{ layer: 2, head: 1 }], mlps: [0], layers: [1], mode: 'zero', top: 5 },
  });
  const onlyMlp = reduce(s, { type: 'ablation', heads: [], mlps: [2], layers: [] });
  assert.deepEqual(formRequest('ablation', newForm(), onlyMlp), {
    type: 'analyse',
    request: { analysis: 'ablation', heads: [], mlps: [2], mode: 'zero', top: 5 },
  });
  assert.match(formRequest('ablation', newForm(), reduce(s, { type: 'ui/clearAblateHeads' })) as string, /Add to Ablation from the Model view/);
  const other = reduce(s, { type: 'model', model: { ...model, configPath: '/other/config.json' }, steps: [] });
  assert.deepEqual([other.ablateHeads, other.ablateMlps, other.ablateLayers], [[], [], []]);
});

test('the ablation the panel asks for with MLPs and layers is the engine’s ablation of that set', () => {
  const loaded = loadModel(resolve('examples/tiny-llama/config.json'));
  const ids = [[5, 17, 40, 2, 99, 7]];
  const s = new Session();
  s.load(resolve('examples/tiny-llama/config.json'), { ids: ids[0] }, 'auto', NO_CONTROL);
  const request = { analysis: 'ablation' as const, heads: [{ layer: 2, head: 1 }], mlps: [0], layers: [1], mode: 'zero' as const, top: 5 };
  const view = (s.handle({ kind: 'analyse', request }, NO_CONTROL).reply as AnalysisReply).view;
  assert.equal(view.analysis, 'ablation');
  const direct = ablate(loaded.model, { ids }, request, { top: 5 });
  if (view.analysis !== 'ablation') return;
  assert.deepEqual(view.replaced, direct.replaced);
  assert.ok(view.replaced.includes('blocks.0.hook_mlp_out') && view.replaced.includes('blocks.1.hook_attn_out') && view.replaced.includes('blocks.2.attn.hook_z'));
  assert.equal(view.firstLayer, 0);
  assert.deepEqual(view.loss, direct.loss);
  assert.ok(view.maxAbsDelta > 0);
});

test('messages from the panel: the set, a patched cell, closing the comparison, going back; malformed ones dropped', () => {
  assert.deepEqual(parseFromWebview({ type: 'ablationSet', heads: ['2.1'], mlps: [0], layers: [], extra: 1 }), { type: 'ablationSet', heads: ['2.1'], mlps: [0], layers: [] });
  assert.equal(parseFromWebview({ type: 'ablationSet', heads: ['2.x'], mlps: [], layers: [] }), undefined);
  assert.equal(parseFromWebview({ type: 'ablationSet', heads: [], mlps: [-1], layers: [] }), undefined);
  assert.equal(parseFromWebview({ type: 'ablationSet', heads: [], mlps: [] }), undefined);
  assert.equal(parseFromWebview({ type: 'ablationSet', heads: Array(5000).fill('1.1'), mlps: [], layers: [] }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'openPatchedStep', row: 1, col: 3 }), { type: 'openPatchedStep', row: 1, col: 3 });
  assert.equal(parseFromWebview({ type: 'openPatchedStep', row: 1.5, col: 3 }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'unpatch', x: 1 }), { type: 'unpatch' });
  assert.deepEqual(parseFromWebview({ type: 'closeComparison' }), { type: 'closeComparison' });
});

test('the panel names both models of a comparison and what a patched run carries; later comparisons keep the tab', () => {
  assert.equal(modelName('/work/examples/tiny-llama/config.json'), 'tiny-llama/config.json');
  assert.equal(modelName('quantized copy (rtn, 4 bits)'), 'quantized copy (rtn, 4 bits)');
  const empty = { kind: 'matrix' as const, rows: 0, cols: 0, data: new Float32Array(), colIndex: [], fullCols: 0, rowLabels: [], colName: '' };
  const c = { hook: 'logits', a: empty, b: empty, hooks: [], unmatched: [], topChanges: [], tokensB: ['a', 'b'] };
  assert.deepEqual(sideTitles({ ...c, models: { a: '/m/one/config.json', b: '/m/two/config.json' } }), {
    a: 'A: one/config.json',
    b: 'B: two/config.json',
    about: 'Two models on this input: A /m/one/config.json · B /m/two/config.json',
  });
  assert.equal(sideTitles(c).a, 'A (this input)');
  assert.equal(
    patchedTitle({ what: 'heads', layer: 2, hook: 'blocks.2.attn.hook_z', head: 1, description: '' }),
    'Patched run — layer 2, head 1 (attention head output) from the clean run',
  );
  let s = reduce({ ...initialState(), tab: 'analyses' }, { type: 'comparison', comparison: c });
  assert.equal(s.tab, 'step');
  s = reduce({ ...s, tab: 'quant' }, { type: 'comparison', comparison: { ...c, hook: 'hook_embed' } });
  assert.equal(s.tab, 'quant', 'stepping re-compares without switching tabs');
});
