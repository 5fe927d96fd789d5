import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { assertClose } from '../helpers/close';

/**
 * examples/tiny-llama: a Llama decoder and byte-level BPE trained on the KJV by tools/train_tiny_llama/train.py.
 * The fixture holds what that script's own PyTorch model computed, and what its own Python tokenizer produced.
 */
const EXAMPLE = path.resolve(__dirname, '..', '..', 'examples', 'tiny-llama');
const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'tiny-llama-reference.json');

interface Reference {
  previous_token_head: { layer: number; head: number; mean_prev_attention: number };
  sentences: {
    text: string;
    ids: number[];
    tokens: string[];
    logits_shape: number[];
    logits: number[];
    pattern_shape: number[];
    pattern: number[];
  }[];
  tokenization: { text: string; ids: number[] }[];
}

const ref = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Reference;
const loaded = loadModel(EXAMPLE);

test('tiny-llama loads as a Llama with every shipped tensor used', () => {
  assert.equal(loaded.spec.family, 'llama');
  assert.ok(loaded.weightsPath?.endsWith('model.safetensors'));
  assert.deepEqual(loaded.model.unusedWeights ?? [], []);
  assert.ok(loaded.tokenizer, 'tokenizer.json beside config.json');
});

test('the shipped tokenizer.json gives the Python tokenizer’s ids on every probe sentence', () => {
  const tok = loaded.tokenizer!;
  assert.ok(ref.tokenization.length >= 50);
  for (const { text, ids } of ref.tokenization) {
    assert.deepEqual(tok.encode(text).ids, ids, JSON.stringify(text));
  }
  for (const s of ref.sentences) {
    const enc = tok.encode(s.text);
    assert.deepEqual(enc.ids, s.ids, s.text);
    assert.deepEqual(enc.tokens, s.tokens, s.text);
  }
});

for (const [n, s] of ref.sentences.entries()) {
  test(`sentence ${n + 1}: logits match PyTorch and the previous-token head looks one back (“${s.text}”)`, () => {
    const ids = loaded.tokenizer!.encode(s.text).ids;
    const { steps, result } = runTrace(loaded.model.forward({ ids: [ids] }));
    assert.deepEqual([...result.shape], s.logits_shape);
    assertClose(result.data, s.logits, 1e-4, 'logits');

    const { layer, head } = ref.previous_token_head;
    const step = steps.find((st) => st.name === `blocks.${layer}.attn.hook_pattern`);
    assert.ok(step, `blocks.${layer}.attn.hook_pattern recorded`);
    const [B, H, T, T2] = step.tensor.shape;
    assert.deepEqual([B, T, T2], [1, ids.length, ids.length]);
    assert.ok(head < H);
    const pattern = step.tensor.data.subarray(head * T * T, (head + 1) * T * T);
    assertClose(pattern, s.pattern, 1e-4, `layer ${layer} head ${head} pattern`);

    let prev = 0;
    for (let i = 1; i < T; i++) prev += pattern[i * T + (i - 1)];
    prev /= T - 1;
    assert.ok(prev > 0.5, `mean attention on key i−1 is ${prev.toFixed(3)}`);
  });
}
