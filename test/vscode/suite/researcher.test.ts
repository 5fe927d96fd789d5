// What a researcher opens an inspector for, in a real VS Code on examples/tiny-llama: predictions at
// the logits step, Set Input keeping the step, the input and step kept per config across reopen, the
// sidebar switching the panel to the Step tab at a head, and an over-long input refused by count.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import { api, closeEverything, last, messagesSince, openFresh, TINY_LLAMA, waitFor } from './helpers';


describe('researcher: tiny-llama predictions, inputs that keep their place, the sidebar drives the panel', function () {
  this.timeout(60_000);
  let a: TestApi;

  before(async () => {
    a = await api();
    await openFresh(a, TINY_LLAMA);
  });
  after(closeEverything);

  it('the logits step shows the top-k predictions with decoded tokens: " unto" after "And God said"', async () => {
    await vscode.commands.executeCommand('transformerInspector.setInput', 'And God said');
    await a.inspector.idle();
    assert.equal(a.inspector.state.model?.text, 'And God said');
    const from = a.panel.lastMessages.length;
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'logits' });
    const step = last(messagesSince(a, from), 'step');
    assert.ok(step?.step.predictions, 'the logits step carries predictions');
    const final = step.step.predictions.positions.at(-1)!;
    assert.equal(final.top[0].token, ' unto');
    assert.ok(final.top[0].prob > final.top[1].prob);
    assert.ok(step.step.predictions.meanLoss! > 0);
  });

  it('Set Input… keeps the stepper at the same hook', async () => {
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'blocks.1.attn.hook_pattern' });
    assert.equal(a.inspector.state.stepName, 'blocks.1.attn.hook_pattern');
    await vscode.commands.executeCommand('transformerInspector.setInput', 'In the beginning God created the heaven');
    await a.inspector.idle();
    assert.equal(a.inspector.state.stepName, 'blocks.1.attn.hook_pattern');
    assert.equal(a.inspector.state.model?.text, 'In the beginning God created the heaven');
  });

  it('an input over the model’s limit is refused with its count before anything runs', async () => {
    const limit = a.inspector.state.limits!.maxLen;
    const before = a.inspector.state.model?.ids;
    await vscode.commands.executeCommand('transformerInspector.setInput', Array.from({ length: limit + 5 }, () => 7));
    await a.inspector.idle();
    assert.deepEqual(a.inspector.state.model?.ids, before, 'the input is unchanged');
    assert.equal(a.inspector.state.failure, undefined, 'no engine failure: the host counted first');
  });

  it('the sidebar head click switches the panel to the Step tab at that head', async () => {
    await vscode.commands.executeCommand('transformerInspector.showParameters');
    await a.inspector.idle();
    const from = a.panel.lastMessages.length;
    await vscode.commands.executeCommand('transformerInspector.revealNode', 'blocks.2.attn#head1');
    await a.inspector.idle();
    const msgs = messagesSince(a, from);
    assert.ok(msgs.some((m) => m.type === 'showTab' && m.tab === 'step'), JSON.stringify(msgs.map((m) => m.type)));
    assert.ok(msgs.some((m) => m.type === 'selectHead' && m.head === 1));
    assert.equal(a.inspector.state.stepName, 'blocks.2.attn.hook_pattern');
  });

  it('the panel always opens beside the config editor, never over it', async () => {
    const panelColumn = () =>
      vscode.window.tabGroups.all.find((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Inspector:')))?.viewColumn;
    // Tab groups follow the panel's reveal asynchronously (slower on a loaded machine): wait for its tab.
    const column = await waitFor('the panel has a tab', panelColumn, 10_000).catch(() => undefined);
    assert.ok(column !== undefined, 'the panel has a tab');
    // The config shown in the panel's own group: opening the inspector again must not cover it.
    const doc = await vscode.workspace.openTextDocument(TINY_LLAMA);
    await vscode.window.showTextDocument(doc, { viewColumn: column });
    await vscode.commands.executeCommand('transformerInspector.open');
    await a.inspector.idle();
    const editorColumn = vscode.window.activeTextEditor?.viewColumn;
    // Tab groups update after the reveal: wait (bounded) for the panel's group to settle, then compare.
    await waitFor('the panel beside the editor', () => panelColumn() !== undefined && panelColumn() !== editorColumn, 5_000).catch(() => undefined);
    assert.notEqual(panelColumn(), editorColumn, `panel in ${panelColumn()}, config editor in ${editorColumn}`);
  });

  it('the input and step are kept per config: closing and reopening brings them back', async () => {
    const text = a.inspector.state.model?.text;
    const stepName = a.inspector.state.stepName;
    await closeEverything();
    await vscode.commands.executeCommand('transformerInspector.open', TINY_LLAMA);
    await a.inspector.idle();
    assert.equal(a.inspector.state.model?.text, text);
    assert.equal(a.inspector.state.stepName, stepName);
  });
});
