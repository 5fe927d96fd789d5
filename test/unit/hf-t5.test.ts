/**
 * T5 (analysed, not run) is read once, like every family: engine/config/hf/t5.ts holds T5Config's
 * defaults and the feed_forward_proj rules, and the analysis (engine/analysis/families/seq2seq.ts)
 * derives its tree from that resolved config. Counts from transformers 5.18
 * (`sum(p.numel() for p in T5ForConditionalGeneration(T5Config(...)).parameters())`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveT5 } from '../../engine/config/hf/t5';
import { HfConfig } from '../../engine/config/hf/reader';
import { analyzeConfig } from '../../engine/analysis';
import { t5Arch } from '../../engine/analysis/families/seq2seq';
import { expandTensors } from '../../engine/analysis/params';
import { isInspectorError } from '../../engine/errors';

test('T5Config defaults, read in one place', () => {
  const t = resolveT5(new HfConfig({ model_type: 't5' }));
  assert.deepEqual(
    { vocab: t.vocab, d: t.hidden, dkv: t.headDim, ff: t.ff, L: t.encoderLayers, Ld: t.decoderLayers, heads: t.heads, buckets: t.buckets, dist: t.maxDistance, eps: t.eps, tie: t.tie },
    { vocab: 32128, d: 512, dkv: 64, ff: 2048, L: 6, Ld: 6, heads: 8, buckets: 32, dist: 128, eps: 1e-6, tie: true },
  );
  assert.deepEqual(t.ffn, { proj: 'relu', gated: false, activation: 'relu', fn: 'relu' });
  assert.equal(resolveT5(new HfConfig({ model_type: 't5', num_layers: 3 })).decoderLayers, 3, 'num_decoder_layers defaults to num_layers');
  assert.equal(t.modelClass, 'T5ForConditionalGeneration');
});

test('feed_forward_proj as T5Config reads it: gated-gelu is the tanh GELU, a malformed value is a named error', () => {
  const f = (proj: string) => resolveT5(new HfConfig({ model_type: 't5', feed_forward_proj: proj })).ffn;
  assert.deepEqual(f('gated-gelu'), { proj: 'gated-gelu', gated: true, activation: 'gelu_new', fn: 'gelu_tanh' });
  assert.deepEqual(f('gated-silu'), { proj: 'gated-silu', gated: true, activation: 'silu', fn: 'silu' });
  assert.deepEqual(f('gelu'), { proj: 'gelu', gated: false, activation: 'gelu', fn: 'gelu' });
  for (const bad of ['foo-gelu', 'gated-gelu-new'])
    assert.throws(() => f(bad), (e: unknown) => isInspectorError(e) && e.place.key === 'feed_forward_proj', bad);
});

test('tiny T5 configs count what transformers builds', () => {
  const tiny = { model_type: 't5', vocab_size: 40, d_model: 8, d_kv: 4, d_ff: 12, num_layers: 1, num_heads: 2 };
  assert.equal(analyzeConfig(tiny).params.total, 1656n);
  const gated = { ...tiny, num_layers: 2, num_decoder_layers: 1, num_heads: 3, feed_forward_proj: 'gated-silu' };
  assert.equal(analyzeConfig(gated).params.total, 2984n);
  assert.equal(analyzeConfig({ ...gated, architectures: ['T5Model'] }).params.total, 2984n, 'T5Model: the LM head is tied, nothing added');
  const names = expandTensors(analyzeConfig(gated).arch).map((n) => n.name);
  assert.ok(names.includes('encoder.block.1.layer.1.DenseReluDense.wi_1.weight'));
  assert.ok(!names.some((n) => n.startsWith('decoder.block.1.')), 'one decoder block');
});

test('the analysis is a function of the resolved config: same description, same tree', () => {
  const t = resolveT5(new HfConfig({ model_type: 't5', d_model: 16, d_kv: 4, num_heads: 4, d_ff: 8, num_layers: 1, vocab_size: 20 }));
  const a = expandTensors(t5Arch(t)).map((x) => `${x.name}:${x.shape.join('x')}`);
  const b = expandTensors(t5Arch({ ...t, ff: 9 })).map((x) => `${x.name}:${x.shape.join('x')}`);
  assert.ok(a.includes('encoder.block.0.layer.1.DenseReluDense.wi.weight:8x16'));
  assert.ok(b.includes('encoder.block.0.layer.1.DenseReluDense.wi.weight:9x16'));
});

test('no analysis family reads the raw config: every default lives in engine/config/hf/', () => {
  const dir = path.resolve(__dirname, '..', '..', 'engine', 'analysis', 'families');
  for (const f of fs.readdirSync(dir)) {
    const src = fs.readFileSync(path.join(dir, f), 'utf8');
    const reads = src.match(/\bc\.(int|optInt|str|bool|has|r\.|obj|intList|strList|numLabels|architecture|quantization|storedDtype)\b/g) ?? [];
    assert.deepEqual(reads, [], `${f} reads the config itself`);
  }
});
