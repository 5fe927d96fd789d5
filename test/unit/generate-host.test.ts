// Generate Next Token on the host and in the panel: the command's arguments and refusals, the message
// the webview may send, and what the panel shows of a generation (its DOM is drawn by the VS Code suite).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCommand, generateTitle, parseGenerateArgs, MAX_TOKENS_PER_COMMAND } from '../../src/inspector/generate';
import { parseFromWebview, type GenerationInfo } from '../../protocol/webview';
import { generatedRowCaption } from '../../webview/components/generated-tokens';
import { initialState, isToWebview, reduce } from '../../webview/state';
import { keyToCommand } from '../../webview/keyboard';
import { attentionStep, matrixStep } from './webview-fixtures';
import type { InspectorState } from '../../src/inspector/inspector';

test('Generate Next Token arguments: one greedy token by default, a count, or top-k with a seed', () => {
  assert.deepEqual(parseGenerateArgs(undefined), { count: 1, sampling: { kind: 'greedy' } });
  assert.deepEqual(parseGenerateArgs(3), { count: 3, sampling: { kind: 'greedy' } });
  assert.deepEqual(parseGenerateArgs({ count: 2, topK: 5, temperature: 0.7, seed: 9 }), { count: 2, sampling: { kind: 'top_k', k: 5, temperature: 0.7, seed: 9 } });
  assert.deepEqual(parseGenerateArgs({ topK: 1 }), { count: 1, sampling: { kind: 'top_k', k: 1, temperature: 1, seed: 0 } });
  for (const bad of [0, -1, 1.5, MAX_TOKENS_PER_COMMAND + 1, 'two', { count: 0 }, { topK: 0 }, { topK: 3, temperature: 0 }, { topK: 3, seed: -2 }]) {
    assert.equal(typeof parseGenerateArgs(bad), 'string', `${JSON.stringify(bad)} is refused`);
  }
  assert.equal(generateTitle({ count: 1, sampling: { kind: 'greedy' } }), 'Generating the next token (greedy)');
  assert.equal(generateTitle({ count: 4, sampling: { kind: 'top_k', k: 5, temperature: 0.7, seed: 9 } }), 'Generating 4 tokens (top-5, temperature 0.7, seed 9)');
});

test('Generate Next Token refuses without a model, with an encoder, and with bad arguments; a decoder generates', async () => {
  const told: string[] = [];
  const asked: unknown[] = [];
  const tell = { error: (m: string) => told.push(`error: ${m}`), info: (m: string) => told.push(`info: ${m}`) };
  const inspector = (architecture?: 'encoder' | 'decoder') => ({
    state: { limits: architecture && { architecture, vocabSize: 10, decoderVocabSize: 10, maxLen: 8 } } as InspectorState,
    generate: async (what: unknown) => void asked.push(what),
  });
  await generateCommand(inspector(), undefined, tell);
  await generateCommand(inspector('encoder'), undefined, tell);
  await generateCommand(inspector('decoder'), 'many', tell);
  assert.equal(asked.length, 0);
  assert.match(told[0], /^info: .*open a config/);
  assert.match(told[1], /^info: .*decoder-only models; this one is an encoder/);
  assert.match(told[2], /^error: .*Generate Next Token: give a number/);
  await generateCommand(inspector('decoder'), 2, tell);
  assert.deepEqual(asked, [{ count: 2, sampling: { kind: 'greedy' } }]);
});

const generation: GenerationInfo = {
  promptLength: 5,
  shown: 5,
  tokens: [
    { position: 5, id: 7, token: ' unto', prob: 0.4 },
    { position: 6, id: 2, token: ' Moses', prob: 0.2 },
  ],
};

test('the webview: a generated position is asked for by position, the G key generates, the state keeps the generation', () => {
  assert.deepEqual(parseFromWebview({ type: 'showGenerated', position: 6 }), { type: 'showGenerated', position: 6 });
  assert.equal(parseFromWebview({ type: 'showGenerated', position: -1 }), undefined);
  assert.equal(parseFromWebview({ type: 'showGenerated', position: '6' }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'command', command: 'generateNextToken' }), { type: 'command', command: 'generateNextToken' });
  assert.equal(keyToCommand({ key: 'g' }), 'generateNextToken');
  assert.equal(keyToCommand({ key: 'g', target: { tagName: 'INPUT' } }), undefined, 'typing a g is not a command');
  assert.ok(isToWebview({ type: 'generation', generation }), 'the panel takes the message');
  let s = reduce(initialState(), { type: 'busy', message: 'Generating' });
  s = reduce(s, { type: 'generation', generation });
  assert.deepEqual(s.generation, generation);
  assert.equal(s.busy, undefined);
  s = reduce(s, { type: 'generation' });
  assert.equal(s.generation, undefined, 'a new input drops it');
});

test("the caption of a generated position's attention step names its token and counts every key", () => {
  const step = attentionStep(3); // 5 keys
  assert.equal(
    generatedRowCaption(generation, step),
    'Attention of the generated token “␣unto” (position 5) over all 5 keys: one query row, the KV cache of positions 0 … 4 and itself.',
  );
  assert.equal(generatedRowCaption(generation, matrixStep(0)), undefined, 'no caption outside attention');
  assert.equal(generatedRowCaption({ ...generation, shown: 9 }, step), undefined);
});
