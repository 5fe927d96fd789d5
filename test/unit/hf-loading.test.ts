import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { SafetensorsFile, writeSafetensors } from '../../engine/io/safetensors';
import { InspectorError } from '../../engine/errors';
import { runTrace } from '../../engine/trace/step';
import type { Tensor } from '../../engine/tensor';

const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');

function copyWithShards(caseName: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-shards-'));
  fs.copyFileSync(path.join(HF, caseName, 'config.json'), path.join(dir, 'config.json'));
  const f = SafetensorsFile.open(path.join(HF, caseName, 'model.safetensors'));
  const names = f.names();
  const shards: Map<string, Tensor>[] = [new Map(), new Map()];
  const weightMap: Record<string, string> = {};
  names.forEach((n, i) => {
    shards[i % 2].set(n, f.read(n));
    weightMap[n] = `model-0000${(i % 2) + 1}-of-00002.safetensors`;
  });
  shards.forEach((s, i) => writeSafetensors(path.join(dir, `model-0000${i + 1}-of-00002.safetensors`), s));
  fs.writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  return dir;
}

test('a sharded checkpoint (model.safetensors.index.json) gives the same logits as the single file', () => {
  const ids = [[3, 1, 4, 1, 5]];
  const single = runTrace(loadModel(path.join(HF, 'llama')).model.forward({ ids })).result;
  const dir = copyWithShards('llama');
  const sharded = loadModel(dir);
  assert.ok(sharded.weightsPath?.endsWith('model.safetensors.index.json'));
  assert.deepEqual([...runTrace(sharded.model.forward({ ids })).result.data], [...single.data]);
  // An index naming a shard that does not hold the tensor is an error naming the tensor.
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
  const [first] = Object.keys(index.weight_map);
  index.weight_map[first] = index.weight_map[first].includes('00001')
    ? 'model-00002-of-00002.safetensors'
    : 'model-00001-of-00002.safetensors';
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  assert.throws(
    () => loadModel(dir),
    (e: unknown) => e instanceof InspectorError && e.place.tensor === first,
  );
});

test('unused and missing tensors are reported by name', () => {
  // BERT files carry a pooler that the masked-LM head does not use.
  assert.deepEqual(
    loadModel(path.join(HF, 'bert'))
      .model.unusedWeights.filter((n) => n.includes('pooler'))
      .sort(),
    ['bert.pooler.dense.bias', 'bert.pooler.dense.weight'],
  );
  // GPT-2's official file: the attn.bias mask buffers are recognised, nothing is left over.
  assert.deepEqual(loadModel(path.join(HF, 'gpt2')).model.unusedWeights, []);
  // A file missing a tensor: the error names it and the expected shape.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-missing-'));
  fs.copyFileSync(path.join(HF, 'llama', 'config.json'), path.join(dir, 'config.json'));
  const f = SafetensorsFile.open(path.join(HF, 'llama', 'model.safetensors'));
  const kept = new Map(
    f
      .names()
      .filter((n) => n !== 'model.layers.1.mlp.up_proj.weight')
      .map((n) => [n, f.read(n)]),
  );
  writeSafetensors(path.join(dir, 'model.safetensors'), kept);
  assert.throws(
    () => loadModel(dir),
    (e: unknown) =>
      e instanceof InspectorError &&
      e.place.tensor === 'model.layers.1.mlp.up_proj.weight' &&
      /missing tensor \(expected shape/.test(e.message),
  );
});

test('an unknown model_type lists the families the engine runs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-unknown-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'mamba', hidden_size: 8 }));
  assert.throws(
    () => loadModel(dir),
    (e: unknown) =>
      e instanceof InspectorError &&
      /gpt2, llama, mistral, qwen2, gemma, bert, marian, deepseek_v2/.test(e.message),
  );
});
