// The panel's analysis requests: checked as untrusted input (protocol/analysis-request.ts) and
// turned into the engine's request by the host (src/inspector/analyses.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromWebview } from '../../protocol/webview';
import { parseAnalysisRequest } from '../../protocol/analysis-request';
import { resolveAnalysis, type Tokenize } from '../../src/inspector/analyses';

test('well-formed analysis requests pass, holding only the fields the engine reads', () => {
  assert.deepEqual(parseAnalysisRequest({ analysis: 'lens', top: 5, junk: 1 }), { analysis: 'lens', top: 5 });
  assert.deepEqual(parseAnalysisRequest({ analysis: 'heads' }), { analysis: 'heads' });
  assert.deepEqual(parseAnalysisRequest({ analysis: 'attribution', target: 7, versus: 3 }), {
    analysis: 'attribution',
    target: 7,
    versus: 3,
  });
  assert.deepEqual(
    parseAnalysisRequest({ analysis: 'ablation', heads: [{ layer: 2, head: 1, extra: 'x' }], mode: 'mean' }),
    {
      analysis: 'ablation',
      heads: [{ layer: 2, head: 1 }],
      mode: 'mean',
    },
  );
  assert.deepEqual(
    parseAnalysisRequest({ analysis: 'patching', corrupted: [1, 2], target: 3, versus: 4, what: 'heads' }),
    {
      analysis: 'patching',
      corrupted: [1, 2],
      target: 3,
      versus: 4,
      what: 'heads',
    },
  );
  assert.deepEqual(
    parseAnalysisRequest({ analysis: 'rollout', window: { row0: 0, row1: 8, col0: 0, col1: 8 }, cells: 64 }),
    {
      analysis: 'rollout',
      window: { row0: 0, row1: 8, col0: 0, col1: 8 },
      cells: 64,
    },
  );
});

test('malformed analysis requests are refused', () => {
  const bad: unknown[] = [
    null,
    'lens',
    { analysis: 'everything' },
    { analysis: 'lens', top: 21 },
    { analysis: 'lens', target: -1 },
    { analysis: 'lens', target: 1.5 },
    { analysis: 'attribution' },
    { analysis: 'attribution', target: '3' },
    { analysis: 'ablation', heads: [{ layer: 1 }] },
    { analysis: 'ablation', heads: 'all' },
    { analysis: 'ablation', mode: 'random' },
    { analysis: 'ablation', mlps: [1, -2] },
    { analysis: 'ablation', layers: new Array(70000).fill(0) },
    { analysis: 'patching', corrupted: [1], target: 1 },
    { analysis: 'patching', corrupted: [1], target: 1, versus: 2, what: 'everything' },
    { analysis: 'rollout', cells: 0 },
    { analysis: 'rollout', cells: 4096 },
    { analysis: 'rollout', window: { row0: 4, row1: 4, col0: 0, col1: 1 } },
  ];
  for (const b of bad) assert.equal(parseAnalysisRequest(b), undefined, JSON.stringify(b)?.slice(0, 80));
});

test("the webview's 'analyse' message: request and texts checked, tab and analysis restorable", () => {
  assert.deepEqual(parseFromWebview({ type: 'analyse', request: { analysis: 'heads' } }), {
    type: 'analyse',
    request: { analysis: 'heads' },
  });
  assert.deepEqual(
    parseFromWebview({ type: 'analyse', request: { analysis: 'lens' }, texts: { target: ' light' } }),
    {
      type: 'analyse',
      request: { analysis: 'lens' },
      texts: { target: ' light' },
    },
  );
  assert.equal(parseFromWebview({ type: 'analyse', request: { analysis: 'nope' } }), undefined);
  assert.equal(
    parseFromWebview({ type: 'analyse', request: { analysis: 'lens' }, texts: { target: 3 } }),
    undefined,
  );
  assert.equal(
    parseFromWebview({
      type: 'analyse',
      request: { analysis: 'lens' },
      texts: { corrupted: 'x'.repeat(100_001) },
    }),
    undefined,
  );
  assert.equal(
    parseFromWebview({ type: 'analyse', request: { analysis: 'lens' }, texts: 'light' }),
    undefined,
  );
  assert.deepEqual(parseFromWebview({ type: 'showTab', tab: 'analyses' }), {
    type: 'showTab',
    tab: 'analyses',
  });
  assert.deepEqual(parseFromWebview({ type: 'ready', state: { tab: 'analyses', analysis: 'heads' } }), {
    type: 'ready',
    state: { tab: 'analyses', analysis: 'heads' },
  });
  assert.equal(parseFromWebview({ type: 'ready', state: { analysis: 'magic' } }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'exportAnalysis', analysis: 'lens', format: 'svg' }), {
    type: 'exportAnalysis',
    analysis: 'lens',
    format: 'svg',
  });
  assert.equal(parseFromWebview({ type: 'exportAnalysis', analysis: 'lens', format: 'exe' }), undefined);
  assert.equal(parseFromWebview({ type: 'exportAnalysis', analysis: '../x', format: 'png' }), undefined);
  assert.deepEqual(
    parseFromWebview({
      type: 'requestAttentionWindow',
      head: 1,
      window: { row0: 0, row1: 8, col0: 4, col1: 12 },
      cells: 512,
      extra: 1,
    }),
    {
      type: 'requestAttentionWindow',
      head: 1,
      window: { row0: 0, row1: 8, col0: 4, col1: 12 },
      cells: 512,
    },
  );
  for (const bad of [
    { head: -1, window: { row0: 0, row1: 8, col0: 0, col1: 8 }, cells: 8 },
    { head: 0, window: { row0: 8, row1: 8, col0: 0, col1: 8 }, cells: 8 },
    { head: 0, window: { row0: 0, row1: 8, col0: 0, col1: 8 }, cells: 4096 },
    { head: 0, window: { row0: 0, row1: 8, col0: 0 }, cells: 8 },
    { head: 0, window: null, cells: 8 },
  ])
    assert.equal(
      parseFromWebview({ type: 'requestAttentionWindow', ...bad }),
      undefined,
      JSON.stringify(bad),
    );
});

/** A tokenizer over a fixed vocabulary of words (each word one token, a leading space kept). */
const vocab = ['<s>', ' light', ' dark', 'ness', ' the'];
const tokenize: Tokenize = async (text) => {
  const ids: number[] = [];
  let rest = text;
  while (rest.length) {
    const i = vocab.findIndex((w) => w.length && rest.startsWith(w));
    if (i < 0) throw new Error(`untokenizable ${rest}`);
    ids.push(i);
    rest = rest.slice(vocab[i].length);
  }
  return { ids, tokens: ids.map((i) => vocab[i]) };
};

test('the host tokenizes typed targets and the corrupted input', async () => {
  assert.deepEqual(await resolveAnalysis({ analysis: 'lens', top: 5 }, { target: ' dark' }, 3, tokenize), {
    analysis: 'lens',
    top: 5,
    target: 2,
  });
  assert.deepEqual(
    await resolveAnalysis(
      { analysis: 'attribution', target: 0 },
      { target: ' light', versus: ' dark' },
      3,
      tokenize,
    ),
    {
      analysis: 'attribution',
      target: 1,
      versus: 2,
    },
  );
  // An id typed as digits is taken as the id.
  assert.deepEqual(
    await resolveAnalysis({ analysis: 'attribution', target: 0 }, { target: '42' }, 3, tokenize),
    { analysis: 'attribution', target: 42 },
  );
  assert.deepEqual(
    await resolveAnalysis(
      { analysis: 'patching', corrupted: [], target: 0, versus: 0 },
      { target: ' light', versus: ' dark', corrupted: ' the dark' },
      2,
      tokenize,
    ),
    { analysis: 'patching', corrupted: [4, 2], target: 1, versus: 2 },
  );
  const heads = { analysis: 'heads' as const };
  assert.equal(await resolveAnalysis(heads, {}, 3, tokenize), heads);
});

test('a target of several tokens, a corrupted input of another length, or no tokenizer is a user error', async () => {
  await assert.rejects(
    resolveAnalysis({ analysis: 'lens' }, { target: ' darkness' }, 3, tokenize),
    /is 2 tokens \(" dark" "ness"\); choose one token/,
  );
  await assert.rejects(
    resolveAnalysis(
      { analysis: 'patching', corrupted: [], target: 1, versus: 2 },
      { corrupted: ' the darkness' },
      2,
      tokenize,
    ),
    /corrupted input is 3 tokens and the clean one 2/,
  );
  await assert.rejects(
    resolveAnalysis({ analysis: 'lens' }, { target: ' light' }, 3, async () => undefined),
    /needs a tokenizer/,
  );
  await assert.rejects(
    resolveAnalysis({ analysis: 'patching', corrupted: [1], target: 1, versus: 2 }, {}, 2, tokenize),
    /same length/,
  );
});
