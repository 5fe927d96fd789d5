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
