import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyze, keyFacts, totalLine, KEY_ROLE, type AnalysisInput } from '../../src/config/facts';
import { describeKey } from '../../src/config/keys';
import { NATIVE_KEYS } from '../../engine/config/native';

const tutorial: AnalysisInput = {
  json: { vocab_size: 32, d_model: 16, num_heads: 2, d_ff: 32, num_layers: 2, max_len: 16, dropout: 0.1 },
  file: '/x/tutorial.transformer.json',
  native: true,
};
const hf = (name: string): AnalysisInput => {
  const file = `examples/hf/${name}/config.json`;
  return { json: JSON.parse(readFileSync(file, 'utf8')), file, native: false };
};
const facts = (key: string, input: AnalysisInput) => keyFacts(key, analyze(input), input).join('\n');

test('CodeLens line: the total the analysis gives', () => {
  assert.equal(totalLine(analyze(tutorial)), '5,536 parameters (5.54 K) · native Transformer with its output projection (fc_out)');
});

test('d_ff: feed-forward parameters per layer (with the tensor shapes) and over all layers', () => {
  const f = facts('d_ff', tutorial);
  assert.match(f, /Feed-forward `encoder\.layers\.\{i\}\.ffn`: \*\*1,072\*\* parameters per layer \(`linear1\.weight` \[32, 16\], `linear1\.bias` \[32\], `linear2\.weight` \[16, 32\], `linear2\.bias` \[16\]\), in 2 layers/);
  assert.match(f, /Feed-forward, all layers: \*\*2,144\*\* parameters/);
  assert.match(f, /5,536 parameters in total/);
});

test('intermediate_size of a SwiGLU model: three matrices per layer', () => {
  const f = facts('intermediate_size', hf('mistral-7b-v0.1'));
  assert.match(f, /`model\.layers\.\{i\}\.mlp`: \*\*176,160,768\*\* parameters per layer \(`gate_proj\.weight` \[14336, 4096\], `up_proj\.weight` \[14336, 4096\], `down_proj\.weight` \[4096, 14336\]\), in 32 layers/);
});

test('num_key_value_heads: head dim, KV bytes per token, and what full multi-head attention would cost', () => {
  const f = facts('num_key_value_heads', hf('mistral-7b-v0.1'));
  assert.match(f, /32 query heads share 8 key\/value heads \(grouped-query attention\); d_head = \*\*128\*\*/);
  assert.match(f, /KV cache: \*\*128 KiB per token\*\* \(32 layers × 2 \(K, V\) × 8 kv heads × 128 × 2 B, at most 4096 tokens \(sliding window\)\)/);
  assert.match(f, /With full multi-head attention \(num_key_value_heads = 32\) it would be 512 KiB per token/);
});

test('num_kv_heads of a native decoder; an encoder keeps no KV cache', () => {
  const gqa: AnalysisInput = { ...tutorial, json: { ...(tutorial.json as object), architecture: 'decoder', num_heads: 4, num_kv_heads: 2 } };
  const f = facts('num_kv_heads', gqa);
  assert.match(f, /4 query heads share 2 key\/value heads \(grouped-query attention\); d_head = \*\*4\*\*/);
  assert.match(f, /With full multi-head attention \(num_kv_heads = 4\)/);
  assert.match(facts('num_kv_heads', tutorial), /KV cache: none/);
});

test('heads, width, layers, vocabulary and context keys each quote the analysis', () => {
  assert.match(facts('num_heads', tutorial), /2 query heads of d_head = \*\*8\*\*/);
  assert.match(facts('num_heads', tutorial), /Attention `encoder\.layers\.\{i\}\.attn`: \*\*1,088\*\* parameters per layer/);
  assert.match(facts('d_model', tutorial), /\*\*5,536\*\* parameters \(5\.54 K\); 4,512 without embeddings/);
  assert.match(facts('d_model', tutorial), /Weights: fp32 21\.6 KiB, bf16 10\.8 KiB/);
  assert.match(facts('num_layers', tutorial), /`encoder\.layers\.\{i\}`: 2 layers × 2,224 = \*\*4,448\*\* parameters/);
  assert.match(facts('vocab_size', tutorial), /Token embeddings \(and positions\): \*\*512\*\* parameters/);
  assert.match(facts('vocab_size', tutorial), /Output projection \(LM head\): 544 parameters/);
  assert.match(facts('max_position_embeddings', hf('llama-2-7b')), /KV cache at that context: \*\*2\.00 GiB\*\* \(bf16, 512 KiB per token\)/);
  assert.deepEqual(keyFacts('dropout', analyze(tutorial), tutorial), [], 'keys without numbers get only their description');
});

test('every native key has a description; every key with a role is described', () => {
  for (const k of NATIVE_KEYS) assert.ok(describeKey(k, true), `native key ${k} is described in the schema`);
  for (const k of Object.keys(KEY_ROLE)) assert.ok(describeKey(k, true) || describeKey(k, false), `${k} is described`);
});
