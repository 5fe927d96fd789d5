import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkRunnable, findConfig, findWeights, loadModel, openWeights } from '../../engine/model/load';
import { memoryNeed } from '../../engine/model/fits';
import { defaultMemoryBudget } from '../../engine/model/memory-budget';
import { isInspectorError } from '../../engine/errors';

const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');

test('16-bit matrices count 2 bytes each, fp32 ones 4 plus their packed panels', () => {
  const bf16 = openWeights(findWeights(findConfig(path.join(HF, 'llama_bf16')))!);
  const f32 = openWeights(findWeights(findConfig(path.join(HF, 'llama')))!);
  const a = memoryNeed(0n, bf16);
  const b = memoryNeed(0n, f32);
  let matrices = 0;
  let vectors = 0;
  for (const t of f32.files[0].tensors.values()) {
    const n = t.shape.reduce((x, y) => x * y, 1);
    if (t.shape.length === 2) matrices += n;
    else vectors += n;
  }
  assert.equal(b.weightBytes, 8 * matrices + 4 * vectors);
  assert.equal(a.weightBytes, 2 * matrices + 4 * vectors);
  assert.equal(a.kernelBytes, 2 * matrices);
});

test('the size limit is the memory available: a refusal names the bytes needed and the bytes available', () => {
  const config = findConfig(path.join(HF, 'llama_bf16'));
  const weights = openWeights(findWeights(config)!);
  const need = memoryNeed(0n, weights).weightBytes + defaultMemoryBudget();
  assert.doesNotThrow(() => checkRunnable(config, weights, need));
  assert.throws(
    () => checkRunnable(config, weights, need - 1),
    (e) => isInspectorError(e) && e.message.includes(`${need.toLocaleString('en-US')} bytes`) && e.message.includes(`${(need - 1).toLocaleString('en-US')} bytes`) && e.place.file === config,
  );
  assert.throws(() => loadModel(path.join(HF, 'llama_bf16'), { availableBytes: 1000 }), /too large to run here/);
});

test('a BF16 checkpoint keeps its matrices 16-bit in memory', () => {
  const { model } = loadModel(path.join(HF, 'llama_bf16'));
  const q = model.parameters.get('model.layers.0.self_attn.q_proj.weight')!;
  assert.equal(q.half?.dtype, 'BF16');
  assert.equal(q.half?.bits.length, q.size);
  const norm = model.parameters.get('model.layers.0.input_layernorm.weight')!;
  assert.equal(norm.half, undefined, 'vectors are widened to fp32 when read');
});
