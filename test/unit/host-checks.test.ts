import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configProblems, mergeProblems } from '../../src/config/checks';
import { analyze } from '../../src/config/facts';
import { isInspectorError } from '../../engine/errors';

const llama = JSON.parse(readFileSync('examples/hf/llama-2-7b/config.json', 'utf8')) as Record<string, unknown>;
const native = { vocab_size: 32, d_model: 16, num_heads: 2, d_ff: 32, num_layers: 2, max_len: 16 };

/** What the diagnostics would be: the rules, merged with the analysis' first error. */
function diagnostics(json: Record<string, unknown>, isNative = false) {
  try {
    analyze({ json: json as never, file: isNative ? 'x.transformer.json' : 'config.json', native: isNative });
    return [];
  } catch (e) {
    if (!isInspectorError(e)) throw e;
    return mergeProblems(configProblems(json as never), { message: e.message, ...(e.place.key ? { key: e.place.key } : {}) });
  }
}

test('heads = 7 on Llama: both conflicts at once, on num_attention_heads, naming the other keys', () => {
  const d = diagnostics({ ...llama, num_attention_heads: 7 });
  assert.equal(d.length, 2, JSON.stringify(d));
  assert.ok(d.every((p) => p.key === 'num_attention_heads'), 'the key at fault is the one in both conflicts');
  assert.deepEqual(d.map((p) => p.related).sort(), [['hidden_size'], ['num_key_value_heads']]);
  const width = d.find((p) => p.related.includes('hidden_size'))!;
  assert.match(width.message, /'num_attention_heads' \(7\) must divide 'hidden_size' \(4096\)/);
  const kv = d.find((p) => p.related.includes('num_key_value_heads'))!;
  assert.match(kv.message, /num_key_value_heads.*num_attention_heads|num_attention_heads.*num_key_value_heads/);
});

test('a width conflict names both keys even where the analysis says only "the width"', () => {
  const d = diagnostics({ ...llama, num_attention_heads: 7, num_key_value_heads: 7 });
  assert.equal(d.length, 1);
  assert.equal(d[0].key, 'num_attention_heads');
  assert.match(d[0].message, /hidden_size/);
});

test('the analysis wording is kept when it names both keys (native d_model / num_heads)', () => {
  const d = diagnostics({ ...native, num_heads: 3 }, true);
  assert.equal(d.length, 1);
  assert.equal(d[0].key, 'num_heads');
  assert.match(d[0].message, /d_model \(16\) must be divisible by num_heads \(3\)/);
  assert.deepEqual(d[0].related, ['d_model']);
});

test('several bad sizes are all reported, each on its key', () => {
  const d = diagnostics({ ...llama, vocab_size: 1.5, num_hidden_layers: 0, num_key_value_heads: 5 });
  assert.deepEqual(d.map((p) => p.key).sort(), ['num_hidden_layers', 'num_key_value_heads', 'vocab_size']);
  assert.match(d.find((p) => p.key === 'num_key_value_heads')!.message, /'num_key_value_heads' \(5\) must divide 'num_attention_heads' \(32\)/);
});

test('no rule fires on the shipped configs, and an error no rule knows is kept as it is', () => {
  for (const name of ['llama-2-7b', 'mistral-7b-v0.1', 'mixtral-8x7b', 'deepseek-v3', 'gpt2', 'bert-base-uncased']) {
    const json = JSON.parse(readFileSync(`examples/hf/${name}/config.json`, 'utf8'));
    assert.deepEqual(configProblems(json), [], name);
  }
  assert.deepEqual(mergeProblems([], { message: 'unknown family', key: 'model_type' }), [{ key: 'model_type', message: 'unknown family', related: [] }]);
});
