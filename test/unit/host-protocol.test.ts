import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromWebview } from '../../protocol/webview';

test('well-formed webview messages pass, narrowed to their type', () => {
  assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseFromWebview({ type: 'ready', state: { configPath: '/a.transformer.json', stepIndex: 3, tab: 'params' } }), {
    type: 'ready',
    state: { configPath: '/a.transformer.json', stepIndex: 3, tab: 'params' },
  });
  assert.deepEqual(parseFromWebview({ type: 'command', command: 'stepForward' }), { type: 'command', command: 'stepForward' });
  assert.deepEqual(parseFromWebview({ type: 'goToStep', index: 0 }), { type: 'goToStep', index: 0 });
  assert.deepEqual(parseFromWebview({ type: 'goToHook', name: 'blocks.0.attn.hook_pattern' }), { type: 'goToHook', name: 'blocks.0.attn.hook_pattern' });
  assert.deepEqual(parseFromWebview({ type: 'selectHead', head: 1 }), { type: 'selectHead', head: 1 });
  assert.deepEqual(parseFromWebview({ type: 'showTab', tab: 'step' }), { type: 'showTab', tab: 'step' });
});

test('extra fields are not passed on', () => {
  assert.deepEqual(parseFromWebview({ type: 'goToStep', index: 2, evil: 'x' }), { type: 'goToStep', index: 2 });
});

test('malformed and unknown messages are rejected', () => {
  const bad: unknown[] = [
    undefined,
    null,
    42,
    'ready',
    [],
    {},
    { type: 'nope' },
    { type: 'command', command: 'rm -rf' },
    { type: 'command' },
    { type: 'goToStep', index: -1 },
    { type: 'goToStep', index: 1.5 },
    { type: 'goToStep', index: '3' },
    { type: 'goToStep', index: Number.MAX_SAFE_INTEGER + 2 },
    { type: 'goToHook', name: 7 },
    { type: 'goToHook', name: 'x'.repeat(500) },
    { type: 'selectHead', head: NaN },
    { type: 'showTab', tab: 'settings' },
    { type: 'ready', state: 'x' },
    { type: 'ready', state: { stepIndex: -2 } },
    { type: 'ready', state: { configPath: 3 } },
    { type: 'ready', state: { tab: 'other' } },
  ];
  for (const m of bad) assert.equal(parseFromWebview(m), undefined, JSON.stringify(m) ?? String(m));
});
