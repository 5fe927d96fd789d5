import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIds, parseIds, parseInput } from '../../src/inspector/input';

const limits = { vocabSize: 32, maxLen: 4 };

test('ids: commas, spaces or brackets; checked against the vocabulary and max_len', () => {
  assert.deepEqual(parseIds('5, 7,11 13', limits), { ids: [5, 7, 11, 13] });
  assert.deepEqual(parseIds('[0, 31]', limits), { ids: [0, 31] });
  assert.deepEqual(parseIds(' 3 ', limits), { ids: [3] });
  assert.match((parseIds('', limits) as { error: string }).error, /at least one token id \(0 … 31\)/);
  assert.match((parseIds('32', limits) as { error: string }).error, /outside the vocabulary \(0 … 31\)/);
  assert.match((parseIds('-1', limits) as { error: string }).error, /negative/);
  assert.match((parseIds('1.5', limits) as { error: string }).error, /not a token id/);
  assert.match((parseIds('1,2,3,4,5', limits) as { error: string }).error, /5 tokens is more than max_len \(4\)/);
  assert.equal(formatIds([1, 2, 3]), '1, 2, 3');
});

test('text goes to the tokenizer only when there is one', () => {
  assert.deepEqual(parseInput('hello world', { ...limits, tokenizer: true }), { text: 'hello world' });
  assert.deepEqual(parseInput('1, 2', { ...limits, tokenizer: true }), { ids: [1, 2] });
  assert.match((parseInput('hello', { ...limits, tokenizer: false }) as { error: string }).error, /no tokenizer/);
  assert.ok('error' in parseInput('   ', { ...limits, tokenizer: true }));
});

test('countLine: the count against the limit, the tokens escaped, a warning past the limit', async () => {
  const { countLine } = await import('../../src/inspector/input');
  const ok = countLine(['And', ' God', ' said', '\n'], 8);
  assert.equal(ok.over, false);
  assert.equal(ok.message, '4 tokens of at most 8: And ␣God ␣said ↵');
  const long = countLine(Array.from({ length: 50 }, (_, i) => `t${i}`), 45);
  assert.equal(long.over, true);
  assert.match(long.message, /^50 tokens of at most 45 — too many: Enter offers to truncate: t0 t1 /);
  assert.match(long.message, /t39 … \(\+10\)$/);
  assert.equal(countLine(['x'], 1).message, '1 token of at most 1: x');
});

test('kept input and step per config: well-formed entries only (the workspace state outlives versions)', async () => {
  const { isRemembered, memoryKey } = await import('../../src/inspector/memory');
  assert.equal(isRemembered({ input: { text: 'And God said' }, stepIndex: 12 }), true);
  assert.equal(isRemembered({ input: { ids: [1, 2, 3], decoderIds: [4] } }), true);
  assert.equal(isRemembered({ input: {} }), false, 'neither ids nor text');
  assert.equal(isRemembered({ input: { ids: [1, -2] } }), false);
  assert.equal(isRemembered({ input: { text: 3 } }), false);
  assert.equal(isRemembered({ input: { text: 'x' }, stepIndex: 1.5 }), false);
  assert.equal(isRemembered('x'), false);
  assert.equal(isRemembered(undefined), false);
  assert.notEqual(memoryKey('/a/config.json'), memoryKey('/b/config.json'));
});
