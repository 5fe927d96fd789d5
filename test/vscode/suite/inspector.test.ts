// The inspector inside a real VS Code: every command on the tutorial config, the panel's message
// round trip through the test API, the model tree, export, a worker crash, and a model too large to run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import { api, closeEverything, last, LLAMA, messagesSince, TRANSLATION, TUTORIAL, waitFor } from './helpers';

describe('inspector: commands on the tutorial config', function () {
  this.timeout(60_000);
  let a: TestApi;

  before(async () => {
    a = await api();
    await closeEverything();
  });
  after(closeEverything);

  it('Open Inspector opens the panel beside the editor and loads the model', async () => {
    const doc = await vscode.workspace.openTextDocument(TUTORIAL);
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('transformerInspector.open'); // the active config editor
    await a.inspector.idle();
    assert.equal(a.panel.isOpen, true);
    const s = a.inspector.state;
    assert.equal(s.configPath, TUTORIAL);
    assert.equal(s.modelLoaded, true);
    assert.equal(s.model?.seeded, false, 'tutorial.safetensors is beside the config');
    assert.equal(s.stepIndex, -1);
    const model = last(a.panel.lastMessages, 'model');
    assert.ok(model, 'the panel got the model');
    assert.equal(model.model.configPath, TUTORIAL);
    assert.equal(model.steps[0].name, 'hook_embed');
    assert.equal(model.steps.at(-1)?.name, 'logits');
    assert.ok(last(a.panel.lastMessages, 'beforeFirstStep'));
    // tabs update asynchronously after a command
    const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => ({ label: t.label, column: g.viewColumn, webview: t.input instanceof vscode.TabInputWebview })));
    const panelTab = await waitFor(`the panel's tab (tabs: ${JSON.stringify(tabs())})`, () => tabs().find((t) => t.webview && t.label.startsWith('Inspector: tutorial')));
    const editorTab = tabs().find((t) => t.label === 'tutorial.transformer.json');
    assert.ok(editorTab, JSON.stringify(tabs()));
    assert.notEqual(panelTab.column, editorTab.column, 'the panel opens beside the editor');
  });

  it('Step Forward / Step Back move one step and post it', async () => {
    const from = a.panel.lastMessages.length;
    await vscode.commands.executeCommand('transformerInspector.stepForward');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, 'hook_embed');
    const step = last(messagesSince(a, from), 'step');
    assert.ok(step);
    assert.equal(step.step.name, 'hook_embed');
    assert.deepEqual(step.step.breadcrumb, ['Encoder', 'Embeddings', 'Token embedding']);
    assert.equal(step.step.view.kind, 'matrix');
    assert.ok(step.step.view.data instanceof Float32Array, 'typed arrays reach the host intact');
    assert.equal(step.step.stats.histogram.counts.length, 32);
    await vscode.commands.executeCommand('transformerInspector.stepForward');
    await vscode.commands.executeCommand('transformerInspector.stepBack');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, 'hook_embed');
    await vscode.commands.executeCommand('transformerInspector.stepBack');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepIndex, -1);
    assert.equal(last(a.panel.lastMessages, 'beforeFirstStep')?.type, 'beforeFirstStep');
  });

  it('Run to End reaches the logits; Reset goes back before the first step', async () => {
    await vscode.commands.executeCommand('transformerInspector.runToEnd');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, 'logits');
    assert.equal(a.inspector.state.atEnd, true);
    const step = last(a.panel.lastMessages, 'step');
    assert.equal(step?.step.done, true);
    await vscode.commands.executeCommand('transformerInspector.reset');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepIndex, -1);
    assert.equal(a.inspector.state.atEnd, false);
  });

  it('Set Input… takes ids (as the input box would), rejects ids outside the vocabulary', async () => {
    await vscode.commands.executeCommand('transformerInspector.setInput', '5, 7, 11, 13');
    await a.inspector.idle();
    assert.deepEqual(a.inspector.state.model?.ids, [5, 7, 11, 13]);
    assert.deepEqual(last(a.panel.lastMessages, 'model')?.model.tokens, ['5', '7', '11', '13']);
    await vscode.commands.executeCommand('transformerInspector.setInput', '5, 99');
    await a.inspector.idle();
    assert.deepEqual(a.inspector.state.model?.ids, [5, 7, 11, 13], 'an invalid input changes nothing');
  });

  it('the panel answers a message round trip: goToHook gives the attention pattern with every head', async () => {
    const from = a.panel.lastMessages.length;
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'blocks.1.attn.hook_pattern' });
    const step = last(messagesSince(a, from), 'step');
    assert.ok(step, 'a step came back');
    assert.equal(step.step.name, 'blocks.1.attn.hook_pattern');
    assert.equal(step.step.view.kind, 'attention');
    if (step.step.view.kind === 'attention') {
      assert.equal(step.step.view.heads, 2);
      assert.equal(step.step.view.queries, 4);
      assert.deepEqual(step.step.view.queryLabels, ['5', '7', '11', '13']);
    }
    assert.match(step.step.explanation, /softmax\(QKᵀ\/√d_k \+ mask\) per head: row i is where query token i looks/);
    await a.panel.postMessageForTest({ type: 'goToStep', index: 0 });
    assert.equal(a.inspector.state.stepName, 'hook_embed');
  });

  it('a ready message (the webview reloaded) gets everything again; malformed messages are dropped', async () => {
    let from = a.panel.lastMessages.length;
    await a.panel.postMessageForTest({ type: 'ready' });
    const again = messagesSince(a, from).map((m) => m.type);
    assert.deepEqual(again.slice(0, 2), ['model', 'step']);
    from = a.panel.lastMessages.length;
    for (const bad of [{ type: 'goToStep', index: -1 }, { type: 'evil' }, 'ready', null, { type: 'command', command: 'format c:' }]) {
      await a.panel.postMessageForTest(bad);
    }
    await a.inspector.idle();
    assert.deepEqual(messagesSince(a, from), [], 'nothing was answered');
    assert.equal(a.inspector.state.stepName, 'hook_embed', 'nothing moved');
  });

  it('webview commands run the same commands', async () => {
    await a.panel.postMessageForTest({ type: 'command', command: 'stepForward' });
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, 'hook_pos_embed');
  });

  it('the model tree: selecting a node reveals its step; the current step highlights its node', async () => {
    const tree = a.inspector.state.tree;
    assert.ok(tree);
    assert.deepEqual(
      tree.children.map((c) => c.label),
      ['Embeddings', 'Block 0', 'Block 1', 'Final norm', 'LM head'],
    );
    assert.equal(tree.parameters, a.inspector.state.model?.parameterCount);
    await vscode.commands.executeCommand('transformerInspector.revealNode', 'blocks.1.mlp');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, 'blocks.1.mlp.hook_post');
    assert.equal(a.tree.currentNode?.id, 'blocks.1.mlp');
    await vscode.commands.executeCommand('transformerInspector.revealNode', 'blocks.0.attn#head1');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, 'blocks.0.attn.hook_pattern');
    assert.equal(a.tree.currentNode?.id, 'blocks.0.attn');
    await vscode.commands.executeCommand('workbench.view.extension.transformerInspector');
  });

  it('Show Parameter Breakdown posts the analysis and switches the tab', async () => {
    const from = a.panel.lastMessages.length;
    await vscode.commands.executeCommand('transformerInspector.showParameters');
    const msgs = messagesSince(a, from);
    const params = last(msgs, 'params');
    assert.ok(params);
    assert.equal(params.params.totals[0].count, '5536');
    assert.ok(params.params.totals.some((t) => t.label === 'Allocated by the engine' && t.count === '5536'));
    assert.ok(msgs.some((m) => m.type === 'showTab' && m.tab === 'params'));
  });

  it('Export Current Tensor… writes .npy (NumPy format 1.0) and .json', async () => {
    await vscode.commands.executeCommand('transformerInspector.revealNode', 'blocks.0.attn');
    await a.inspector.idle();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-export-'));
    try {
      const npy = vscode.Uri.file(path.join(dir, 'pattern.npy'));
      const written = await vscode.commands.executeCommand<vscode.Uri | undefined>('transformerInspector.exportTensor', npy);
      assert.equal(written?.fsPath, npy.fsPath);
      const bytes = fs.readFileSync(npy.fsPath);
      assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      const headerLen = bytes.readUInt16LE(8);
      assert.match(bytes.subarray(10, 10 + headerLen).toString('latin1'), /'shape': \(1, 2, 4, 4\)/);
      assert.equal(bytes.length, 10 + headerLen + 32 * 4);
      const json = vscode.Uri.file(path.join(dir, 'pattern.json'));
      await vscode.commands.executeCommand('transformerInspector.exportTensor', json);
      const parsed = JSON.parse(fs.readFileSync(json.fsPath, 'utf8')) as { name: string; data: number[] };
      assert.equal(parsed.name, 'blocks.0.attn.hook_pattern');
      assert.equal(parsed.data.length, 32);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a crash of the engine worker is survived: the model is loaded again on the next step', async () => {
    const before = a.inspector.state.stepIndex;
    const err = await a.engine.crashForTest();
    assert.match(String(err), /exit code 70/);
    await vscode.commands.executeCommand('transformerInspector.stepForward');
    await a.inspector.idle();
    assert.equal(a.inspector.state.modelLoaded, true);
    assert.equal(a.inspector.state.stepIndex, before + 1, 'reloaded at the same step, then stepped');
    assert.deepEqual(a.inspector.state.model?.ids, [5, 7, 11, 13], 'with the same input');
  });

  it('closing the panel ends the session', async () => {
    await closeEverything();
    await waitFor('the panel to close', () => !a.panel.isOpen);
    assert.equal(a.inspector.state.configPath, undefined);
    assert.equal(a.inspector.state.tree, undefined);
  });
});

describe('inspector: other configs', function () {
  this.timeout(60_000);
  let a: TestApi;

  before(async () => {
    a = await api();
    await closeEverything();
  });
  after(closeEverything);

  it('an encoder-decoder model takes encoder and decoder input', async () => {
    await vscode.commands.executeCommand('transformerInspector.open', vscode.Uri.file(TRANSLATION));
    await a.inspector.idle();
    assert.equal(a.inspector.state.limits?.architecture, 'encoder-decoder');
    await vscode.commands.executeCommand('transformerInspector.setInput', '1, 2, 3', '4, 5');
    await a.inspector.idle();
    assert.deepEqual(a.inspector.state.model?.ids, [1, 2, 3]);
    assert.deepEqual(a.inspector.state.model?.decoderIds, [4, 5]);
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'decoder.blocks.0.cross_attn.hook_pattern' });
    const step = last(a.panel.lastMessages, 'step');
    assert.equal(step?.step.view.kind, 'attention');
    if (step?.step.view.kind === 'attention') {
      assert.equal(step.step.view.queries, 2);
      assert.equal(step.step.view.keys, 3);
    }
  });

  it('a Hugging Face config too large to run opens with its analysis and says why it does not run', async () => {
    await vscode.commands.executeCommand('transformerInspector.open', LLAMA);
    await a.inspector.idle();
    assert.equal(a.inspector.state.configPath, LLAMA);
    assert.equal(a.inspector.state.modelLoaded, false);
    assert.match(a.inspector.state.failure ?? '', /6\.74 B parameters: too large to run/);
    const err = last(a.panel.lastMessages, 'error');
    assert.match(err?.message ?? '', /too large to run/);
    const params = last(a.panel.lastMessages, 'params');
    assert.equal(params?.params.totals[0].count, '6738415616');
    assert.ok(a.panel.lastMessages.some((m) => m.type === 'showTab' && m.tab === 'params'));
    // stepping is refused politely, not with an exception
    await vscode.commands.executeCommand('transformerInspector.stepForward');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, undefined);
  });

  it('a panel restored after a window reload (the serializer) reopens its config at its step', async () => {
    await closeEverything();
    await waitFor('the panel to close', () => !a.panel.isOpen);
    const panel = vscode.window.createWebviewPanel('transformerInspector.panel', 'Transformer Inspector', vscode.ViewColumn.One, {});
    await a.panel.deserializeForTest(panel, { configPath: TUTORIAL, stepIndex: 5, tab: 'step' });
    await a.inspector.idle();
    assert.equal(a.inspector.state.configPath, TUTORIAL);
    assert.equal(a.inspector.state.stepIndex, 5);
    assert.equal(last(a.panel.lastMessages, 'step')?.step.index, 5);
    // a malformed saved state restores nothing, and says so only in the log
    await closeEverything();
    await waitFor('the panel to close', () => !a.panel.isOpen);
    const other = vscode.window.createWebviewPanel('transformerInspector.panel', 'Transformer Inspector', vscode.ViewColumn.One, {});
    await a.panel.deserializeForTest(other, { configPath: 42 });
    assert.equal(a.inspector.state.configPath, undefined);
    assert.equal(last(a.panel.lastMessages, 'empty')?.type, 'empty');
  });

  it('a folder holding one config opens that config', async () => {
    await vscode.commands.executeCommand('transformerInspector.open', path.dirname(TUTORIAL));
    await a.inspector.idle();
    assert.equal(a.inspector.state.configPath, TUTORIAL);
    assert.equal(a.inspector.state.modelLoaded, true);
  });
});
