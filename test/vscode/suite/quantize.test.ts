// Quantization inside a real VS Code: Quantize Model… on examples/tiny-llama quantizes in the engine
// process and fills the panel's Quantization tab (report, per-layer errors, the current hook float vs
// quantized, stepping together); opening a .gguf shows its metadata and opens the inspector on it.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import { api, closeEverything, last, messagesSince, ROOT, TINY_LLAMA, waitFor } from './helpers';

const GGUF = path.join(ROOT, 'test/fixtures/quant/gguf/llama-Q4_0.gguf');

describe('quantization: the Quantize command and the panel view', function () {
  this.timeout(120_000);
  let a: TestApi;

  before(async () => {
    a = await api();
    await closeEverything();
  });
  after(closeEverything);

  it('Quantize Model… (GPTQ 4-bit g32 on the current input) shows the report and the current hook side by side', async () => {
    await vscode.commands.executeCommand('transformerInspector.open', TINY_LLAMA);
    await a.inspector.idle();
    assert.equal(a.inspector.state.modelLoaded, true);
    await vscode.commands.executeCommand('transformerInspector.setInput', 'In the beginning God created the heaven and the earth.');
    await a.inspector.idle();
    const tokens = a.inspector.state.model!.ids.length;
    const from = a.panel.lastMessages.length;
    const spec = { method: 'gptq', bits: 4, group: 32, calibration: { kind: 'input' } };
    await vscode.commands.executeCommand('transformerInspector.quantizeModel', undefined, spec);
    await a.inspector.idle();
    const s = a.inspector.state;
    assert.ok(s.quant, `quantized (failure: ${s.failure})`);
    assert.equal(s.quant.method, 'gptq');
    assert.equal(s.quant.calib_tokens, tokens, 'calibrated on the current input');
    assert.equal(s.quant.layers.length, 21);
    assert.ok(s.quant.layers.every((l) => l.output_rel_error > 0 && l.output_rel_error < 1));
    assert.ok(s.quant.weights_bytes < s.quant.weights_bytes_fp / 2);
    const msgs = messagesSince(a, from);
    assert.equal(last(msgs, 'quant')?.report?.perplexity_q, s.quant.perplexity_q);
    assert.equal(last(msgs, 'showTab')?.tab, 'quant');
    // The panel compares the current step (the first one after quantizing).
    const first = await waitFor('the first comparison', () => a.inspector.state.quantStep);
    assert.equal(first.name, a.inspector.state.stepName);
    assert.equal(first.rel_error, 0, 'the embeddings are not quantized');

    // Stepping moves both sides together.
    const before = a.panel.lastMessages.length;
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'blocks.2.hook_resid_post' });
    await a.inspector.idle();
    const q = await waitFor('the comparison of blocks.2.hook_resid_post', () => a.inspector.state.quantStep?.name === 'blocks.2.hook_resid_post' && a.inspector.state.quantStep);
    assert.ok(q.rel_error > 0 && q.rel_error < 0.5, `resid_post rel error ${q.rel_error}`);
    const shown = last(messagesSince(a, before), 'quantStep');
    assert.equal(shown?.step.name, 'blocks.2.hook_resid_post');
    assert.equal(shown?.step.fp.rows, tokens);
    assert.equal(shown?.step.diff.data.length, shown?.step.fp.data.length);

    // An attention hook: one head, and the comparison follows the head the panel selects.
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'blocks.1.attn.hook_pattern' });
    await a.inspector.idle();
    await waitFor('head 0 of the pattern', () => a.inspector.state.quantStep?.name === 'blocks.1.attn.hook_pattern');
    await a.panel.postMessageForTest({ type: 'selectHead', head: 2 });
    await waitFor('head 2 of the pattern', () => a.inspector.state.quantStep?.head === 2);

    // Reloading the model drops the quantized one.
    await vscode.commands.executeCommand('transformerInspector.open', path.join(ROOT, 'examples/tutorial/tutorial.transformer.json'));
    await a.inspector.idle();
    assert.equal(a.inspector.state.quant, undefined);
    assert.equal(last(a.panel.lastMessages, 'quant')?.report, undefined);
  });

  it('a malformed spec is refused without quantizing', async () => {
    await vscode.commands.executeCommand('transformerInspector.quantizeModel', undefined, { method: 'gptq', bits: 12, calibration: { kind: 'input' } });
    await a.inspector.idle();
    assert.equal(a.inspector.state.quant, undefined);
  });

  it('opening a .gguf shows its metadata, and Open in Inspector runs it', async () => {
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(GGUF));
    const shown = await waitFor('the GGUF view', () => a.gguf.shown.get(GGUF), 30_000);
    assert.equal(shown.error, undefined);
    assert.equal(shown.architecture, 'llama');
    assert.equal(shown.runnable, true);
    assert.equal(shown.parameters, 26_784);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputCustom && tab.input.viewType === 'transformerInspector.gguf', 'the GGUF Metadata editor is the default for .gguf');
    // What the view's link runs.
    await vscode.commands.executeCommand('transformerInspector.open', GGUF);
    await a.inspector.idle();
    const s = a.inspector.state;
    assert.equal(s.configPath, GGUF);
    assert.equal(s.modelLoaded, true, `loaded (failure: ${s.failure})`);
    assert.equal(s.model?.parameterCount, 26_784);
    assert.equal(s.model?.family, 'llama');
  });
});
