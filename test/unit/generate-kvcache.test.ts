import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { KVCache } from '../../engine/nn/kvcache';
import { generate, lastRow, pickToken } from '../../engine/model/generate';
import { mulberry32 } from '../../engine/model/rng';
import { assertClose } from '../helpers/close';

const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');

// A decoder of each kind: learned positions (GPT-2), RoPE with grouped-query attention (Llama: 4 heads,
// 2 KV heads), and Mistral's sliding window (3) smaller than the sequence (9 positions).
for (const family of ['gpt2', 'llama', 'mistral']) {
  test(`${family}: logits with the KV cache equal a full re-run at every step`, () => {
    const { model, spec } = loadModel(path.join(HF, family));
    const seq = Array.from({ length: 9 }, (_, i) => (i * 37 + 5) % spec.vocabSize);
    const cache = new KVCache();
    // Prefill two positions, then one at a time.
    let cached = runTrace(model.forward({ ids: [seq.slice(0, 2)], cache })).result;
    const fullPrefill = runTrace(model.forward({ ids: [seq.slice(0, 2)] })).result;
    assertClose(cached.data, fullPrefill.data, 1e-5, `${family}: prefill`);
    for (let t = 2; t < seq.length; t++) {
      cached = runTrace(model.forward({ ids: [[seq[t]]], cache })).result;
      assert.deepEqual(cached.shape, [1, 1, spec.vocabSize]);
      const full = runTrace(model.forward({ ids: [seq.slice(0, t + 1)] })).result;
      assertClose(cached.data, lastRow(full), 1e-5, `${family}: step ${t}`);
    }
    assert.equal(cache.length, seq.length);
    assert.ok(cache.bytes() > 0);
  });
}

test('mistral: the cached pattern of a new token covers every cached key, zero outside the sliding window', () => {
  const { model } = loadModel(path.join(HF, 'mistral'));
  const cache = new KVCache();
  runTrace(model.forward({ ids: [[1, 2, 3, 4, 5]], cache }));
  const { steps } = runTrace(model.forward({ ids: [[6]], cache }));
  const pattern = steps.find((s) => s.name === 'blocks.0.attn.hook_pattern')!.tensor;
  assert.deepEqual(pattern.shape.slice(2), [1, 6], 'one query row over all 6 keys');
  const row = pattern.data.subarray(0, 6);
  for (let j = 0; j < 3; j++) assert.ok(row[j] < 1e-6, `key ${j} is outside the window of 3`);
  assert.ok(Math.abs(row[3] + row[4] + row[5] - 1) < 1e-5);
});

test('greedy generation with the cache produces the same tokens as re-running the sequence', () => {
  const { model } = loadModel(path.join(HF, 'llama'));
  const prompt = [3, 17, 42];
  const withCache = generate(model, prompt, { maxNewTokens: 6, sampling: { kind: 'greedy' } });
  const without = generate(model, prompt, { maxNewTokens: 6, sampling: { kind: 'greedy' }, cache: false });
  assert.equal(withCache.ids.length, prompt.length + 6);
  assert.deepEqual(withCache.ids, without.ids);
  assert.equal(withCache.tokenMs.length, 5);
});

test('top-k sampling is reproducible with a seed and only draws from the k best', () => {
  const { model } = loadModel(path.join(HF, 'gpt2'));
  const sampling = { kind: 'top_k', k: 3, temperature: 0.8, seed: 7 } as const;
  const a = generate(model, [5, 6], { maxNewTokens: 5, sampling });
  const b = generate(model, [5, 6], { maxNewTokens: 5, sampling });
  assert.deepEqual(a.ids, b.ids);
  const row = Float32Array.from([0.1, 5, 4.9, -2, 4.8, 0]);
  const rand = mulberry32(1);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(pickToken(row, { kind: 'top_k', k: 3, temperature: 1, seed: 0 }, rand));
  assert.deepEqual([...seen].sort(), [1, 2, 4]);
  assert.equal(pickToken(row, { kind: 'greedy' }, rand), 1);
});

test('a KV cache is refused where it does not apply', () => {
  const { model } = loadModel(path.join(HF, 'bert'));
  assert.throws(() => runTrace(model.forward({ ids: [[1, 2]], cache: new KVCache() })), /KV cache is for decoding/);
});
