// Generate Next Token in a real VS Code on examples/tiny-llama: the token the CLI's `generate` gives for the
// same input is appended, the panel walks only the new position (its attention one row over every key),
// an earlier generated position stays reachable, and Set Input drops the generation.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import { api, last, leaveAtStart, messagesSince, openFresh, ROOT, TINY_LLAMA } from './helpers';

const PROMPT = 'And God said';

/** What the built CLI's `generate PATH --text … --max-new-tokens n --json` appends (its own process). */
function cliTokens(n: number): number[] {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'generate', TINY_LLAMA, '--text', PROMPT, '--max-new-tokens', String(n), '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  return (JSON.parse(out) as { ids: number[] }).ids;
}

describe('Generate Next Token: tiny-llama, one position at a time with the KV cache', function () {
  this.timeout(60_000);
  let a: TestApi;

  before(async () => {
    a = await api();
    await openFresh(a, TINY_LLAMA, PROMPT);
  });
  // Leave tiny-llama remembered before its first step, as the other suites expect to find it.
  after(() => leaveAtStart(a));

  it('appends the greedy token the CLI generate gives (" unto") and walks only the new position', async () => {
    const prompt = a.inspector.state.model!.ids;
    await a.panel.postMessageForTest({ type: 'goToHook', name: 'blocks.2.attn.hook_pattern' });
    const from = a.panel.lastMessages.length;
    await vscode.commands.executeCommand('transformerInspector.generateNextToken');
    await a.inspector.idle();
    const s = a.inspector.state;
    const [expected] = cliTokens(1);
    assert.deepEqual(s.model?.ids, [...prompt, expected]);
    assert.equal(s.model?.tokens.at(-1), ' unto');
    assert.equal(s.model?.text, 'And God said unto', 'the input box shows the grown text');
    assert.deepEqual(s.generation?.tokens.map((t) => t.id), [expected]);
    assert.equal(s.stepName, 'blocks.2.attn.hook_pattern', 'the stepper stays at its hook, on the new position');
    const step = last(messagesSince(a, from), 'step')?.step;
    assert.ok(step && step.view.kind === 'attention');
    assert.deepEqual(step.shape, [1, 4, 1, prompt.length + 1], 'one query row over every key');
    assert.deepEqual(step.view.queryLabels, [' unto']);
    assert.equal(step.view.keyLabels.length, prompt.length + 1);
    const shown = last(messagesSince(a, from), 'generation')?.generation;
    assert.equal(shown?.shown, prompt.length);
    for (const st of s.steps) if (st.name.endsWith('.hook_resid_post')) assert.equal(st.shape[1], 1, `${st.name} is one position`);
  });

  it('three tokens in all equal the CLI generate --max-new-tokens 3; an earlier one is shown again', async () => {
    await vscode.commands.executeCommand('transformerInspector.generateNextToken', 2);
    await a.inspector.idle();
    const s = a.inspector.state;
    const T = s.generation!.promptLength;
    assert.deepEqual(s.model!.ids.slice(T), cliTokens(3));
    assert.equal(s.generation?.shown, T + 2);
    const from = a.panel.lastMessages.length;
    await a.panel.postMessageForTest({ type: 'showGenerated', position: T });
    await a.inspector.idle();
    assert.equal(a.inspector.state.generation?.shown, T);
    const step = last(messagesSince(a, from), 'step')?.step;
    assert.ok(step && step.view.kind === 'attention');
    assert.equal(step.view.keys, T + 1, 'its row over the keys it saw');
  });

  it('Set Input drops the generation: the whole pass again', async () => {
    await vscode.commands.executeCommand('transformerInspector.setInput', PROMPT);
    await a.inspector.idle();
    assert.equal(a.inspector.state.generation, undefined);
    assert.ok(a.inspector.state.steps.some((st) => st.name === 'logits' && st.shape[1] === a.inspector.state.model!.ids.length));
  });
});
