// Issue 13 in a real VS Code on examples/tiny-llama: Compare With… another model (a second checkpoint,
// the quantized copy; a mismatched one refused naming both) stepping together with the stepper; a
// patching cell opened as its patched run and back; Add to / Remove from Ablation on tree nodes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import { api, last, leaveAtStart, messagesSince, openFresh, TINY_LLAMA, waitFor } from './helpers';

const IDS = [5, 17, 40, 2, 99, 7];

/** tiny-llama's config in a folder of its own (with `edit`), without weights: the engine seeds them. */
function checkpoint(edit: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-compare-'));
  const config = { ...(JSON.parse(fs.readFileSync(TINY_LLAMA, 'utf8')) as Record<string, unknown>), ...edit };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('compare two models, patched runs, the ablation set from the tree (issue 13)', function () {
  this.timeout(90_000);
  let a: TestApi;

  before(async () => {
    a = await api();
    await openFresh(a, TINY_LLAMA, IDS);
  });
  // Leave tiny-llama remembered before its first step, as the other suites expect to find it.
  after(() => leaveAtStart(a));

  it('Compare With… another checkpoint: both models at the current hook, and both step together', async () => {
    const other = checkpoint();
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'blocks.0.hook_resid_post' });
    await a.inspector.idle();
    const from = a.panel.lastMessages.length;
    await vscode.commands.executeCommand('transformerInspector.compareWith', { model: other });
    await a.inspector.idle();
    const shown = last(messagesSince(a, from), 'comparison');
    assert.ok(shown, 'a comparison was posted');
    assert.equal(shown.comparison.hook, 'blocks.0.hook_resid_post');
    assert.deepEqual(shown.comparison.models, { a: TINY_LLAMA, b: path.join(other, 'config.json') });
    assert.ok(shown.comparison.maxAbs! > 0, 'seeded weights differ from the trained ones');
    assert.ok(shown.comparison.topChanges.length > 0);
    // Step: the comparison follows to the new hook.
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'blocks.2.attn.hook_pattern' });
    await a.inspector.idle();
    const next = await waitFor('the comparison at the next hook', () => a.inspector.state.comparison?.hook === 'blocks.2.attn.hook_pattern' && a.inspector.state.comparison);
    assert.equal(next.models?.b, path.join(other, 'config.json'));
    const posted = last(messagesSince(a, from), 'comparison');
    assert.equal(posted?.comparison.b.kind, 'attention');
    // Closed in the panel: stepping no longer compares.
    await a.panel.postMessageForTest({ type: 'closeComparison' });
    assert.equal(a.inspector.state.comparison, undefined);
    const after = a.panel.lastMessages.length;
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'logits' });
    await a.inspector.idle();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(last(messagesSince(a, after), 'comparison'), undefined);
  });

  it('a model whose hooks differ is refused with a message naming both', async () => {
    const fewer = checkpoint({ num_hidden_layers: 2 });
    await vscode.commands.executeCommand('transformerInspector.compareWith', { model: fewer });
    await a.inspector.idle();
    const failure = a.inspector.state.failure ?? '';
    assert.match(failure, /cannot compare .* their hooks differ/);
    assert.ok(failure.includes(TINY_LLAMA) && failure.includes(path.join(fewer, 'config.json')), failure);
    assert.equal(a.inspector.state.comparison, undefined);
  });

  it('the quantized copy made by Quantize Model… is a model to compare with', async () => {
    await vscode.commands.executeCommand('transformerInspector.quantizeModel', undefined, { method: 'rtn', bits: 4, group: 32, calibration: { kind: 'input' } });
    await a.inspector.idle();
    assert.ok(a.inspector.state.quant);
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'blocks.1.hook_resid_post' });
    await a.inspector.idle();
    await vscode.commands.executeCommand('transformerInspector.compareWith', { quantized: true });
    await a.inspector.idle();
    const c = await waitFor('the quantized comparison', () => a.inspector.state.comparison);
    assert.equal(c.hook, 'blocks.1.hook_resid_post');
    assert.match(c.models?.b ?? '', /^quantized copy \(rtn, 4 bits, groups of 32\)$/);
    await a.panel.postMessageForTest({ type: 'closeComparison' });
  });

  it('a patching cell opens the patched run at its hook, labelled, and goes back to the normal run', async () => {
    const corrupted = IDS.map((id, t) => (t === 2 ? 41 : id));
    await a.panel.postMessageForTest({ type: 'analyse', request: { analysis: 'patching', corrupted, target: 7, versus: 11, what: 'resid' } });
    await a.inspector.idle();
    const from = a.panel.lastMessages.length;
    await a.panel.postMessageForTest({ type: 'openPatchedStep', row: 1, col: 2 });
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, 'blocks.1.hook_resid_pre');
    assert.deepEqual(a.inspector.state.patched, {
      what: 'resid',
      layer: 1,
      hook: 'blocks.1.hook_resid_pre',
      position: 2,
      description: 'the corrupted input with blocks.1.hook_resid_pre at position 2 from the clean run',
    });
    assert.equal(last(messagesSince(a, from), 'showTab')?.tab, 'step');
    assert.ok(last(messagesSince(a, from), 'step')?.step.patched);
    // Stepping stays in the patched run.
    await vscode.commands.executeCommand('transformerInspector.stepForward');
    await a.inspector.idle();
    assert.ok(a.inspector.state.patched);
    await a.panel.postMessageForTest({ type: 'unpatch' });
    await a.inspector.idle();
    assert.equal(a.inspector.state.patched, undefined);
    assert.notEqual(a.inspector.state.stepName, undefined);
  });

  it('Add to Ablation / Remove from Ablation on head, MLP and layer nodes: the set the panel shows and runs', async () => {
    const from = a.panel.lastMessages.length;
    await vscode.commands.executeCommand('transformerInspector.addToAblation', 'blocks.2.attn#head1');
    await vscode.commands.executeCommand('transformerInspector.addToAblation', { id: 'blocks.0.mlp' });
    await vscode.commands.executeCommand('transformerInspector.addToAblation', 'blocks.1');
    assert.deepEqual(a.inspector.state.ablation, { heads: ['2.1'], mlps: [0], layers: [1] });
    assert.deepEqual(last(messagesSince(a, from), 'ablation'), { type: 'ablation', heads: ['2.1'], mlps: [0], layers: [1] });
    await vscode.commands.executeCommand('transformerInspector.removeFromAblation', 'blocks.1');
    assert.deepEqual(a.inspector.state.ablation, { heads: ['2.1'], mlps: [0], layers: [] });
    // A norm is no part to ablate: the set is unchanged.
    await vscode.commands.executeCommand('transformerInspector.addToAblation', 'ln_final');
    assert.deepEqual(a.inspector.state.ablation.mlps, [0]);
    // The detector grid's clicks reach the host as the panel's whole set.
    await a.panel.postMessageForTest({ type: 'ablationSet', heads: ['2.1', '0.3'], mlps: [0], layers: [] });
    assert.deepEqual(a.inspector.state.ablation, { heads: ['0.3', '2.1'], mlps: [0], layers: [] });
    const before = a.panel.lastMessages.length;
    await a.panel.postMessageForTest({ type: 'analyse', request: { analysis: 'ablation', heads: [{ layer: 0, head: 3 }, { layer: 2, head: 1 }], mlps: [0], mode: 'zero', top: 5 } });
    await a.inspector.idle();
    const r = last(messagesSince(a, before), 'analysis');
    assert.equal(r?.reply.view.analysis, 'ablation');
    if (r?.reply.view.analysis === 'ablation') assert.ok(r.reply.view.replaced.includes('blocks.0.hook_mlp_out'));
  });
});
