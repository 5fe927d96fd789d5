/**
 * Folders written by transformers' own save_pretrained (tools/golden/gen_saved.py): they leave out what
 * the model computes at init (Marian's sinusoid tables, GPT-2's attn.bias, rotary inv_freq). The engine
 * computes those, reports them as computed, and reproduces PyTorch's logits at 1e-5; a table that is
 * present must hold the formula's values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { isInspectorError } from '../../engine/errors';
import { SafetensorsFile, writeSafetensors } from '../../engine/io/safetensors';
import { Tensor } from '../../engine/tensor';
import { assertClose } from '../helpers/close';
import { readExpected } from '../helpers/fixtures';

const SAVED = path.resolve(__dirname, '..', 'fixtures', 'hf-saved');

interface SavedInput {
  ids: number[][];
  decoder_ids?: number[][];
  absent: string[];
  saved: string[];
}

const COMPUTED: Record<string, string[]> = {
  marian: ['model.encoder.embed_positions.weight', 'model.decoder.embed_positions.weight'],
  gpt2: ['transformer.h.0.attn.bias', 'transformer.h.1.attn.bias'],
  llama: ['model.rotary_emb.inv_freq'],
};

for (const name of Object.keys(COMPUTED)) {
  test(`${name} as save_pretrained writes it: logits match PyTorch at 1e-5, omitted buffers computed and reported`, () => {
    const dir = path.join(SAVED, name);
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8')) as SavedInput;
    const file = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    for (const a of raw.absent) assert.equal(file.info(a), undefined, `the fixture really lacks ${a}`);
    const { model } = loadModel(dir);
    const { result } = runTrace(model.forward({ ids: raw.ids, decoderIds: raw.decoder_ids }));
    const want = readExpected(path.join(dir, 'expected.safetensors')).get('logits')!;
    assert.deepEqual([...result.shape], [...want.shape]);
    assertClose(result.data, want.data, 1e-5, `${name}: logits`);
    assert.deepEqual([...model.computedBuffers].filter((n) => !n.includes('.h.') || /\.h\.[01]\.attn\.bias$/.test(n)), COMPUTED[name]);
    assert.deepEqual([...model.unusedWeights], [], 'every saved tensor is used');
  });
}

/** A copy of a fixture folder with `extra` tensors added to (or replacing) model.safetensors. */
function withTensors(name: string, extra: Record<string, Tensor>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `saved-${name}-`));
  for (const f of ['config.json']) fs.copyFileSync(path.join(SAVED, name, f), path.join(dir, f));
  const src = SafetensorsFile.open(path.join(SAVED, name, 'model.safetensors'));
  const all: Record<string, Tensor> = {};
  for (const n of src.names()) all[n] = src.read(n);
  writeSafetensors(path.join(dir, 'model.safetensors'), { ...all, ...extra });
  return dir;
}

test('marian: position tables in the file are accepted when they hold the formula, refused when not', () => {
  const plain = loadModel(path.join(SAVED, 'marian')).model;
  const table = plain.parameters.get('model.encoder.embed_positions.weight')!;
  const ok = withTensors('marian', { 'model.encoder.embed_positions.weight': table, 'model.decoder.embed_positions.weight': table });
  const m = loadModel(ok).model;
  assert.deepEqual([...m.computedBuffers], []);
  assert.deepEqual([...m.unusedWeights], []);
  assert.equal(m.parameterCount(), plain.parameterCount());
  const wrong = new Tensor(table.shape, table.data.map((v, i) => (i === 40 ? v + 0.5 : v)));
  const bad = withTensors('marian', { 'model.encoder.embed_positions.weight': wrong });
  assert.throws(() => loadModel(bad), (e: unknown) => isInspectorError(e) && e.place.tensor === 'model.encoder.embed_positions.weight');
});

test('llama: old per-layer inv_freq buffers are accepted when they hold the frequencies, refused when not', () => {
  const inv = new Float32Array([1, 1 / Math.sqrt(500)].map(Math.fround)); // head_dim 4, rope_theta 500
  const layers = (t: Tensor) => ({ 'model.layers.0.self_attn.rotary_emb.inv_freq': t, 'model.layers.1.self_attn.rotary_emb.inv_freq': t });
  const m = loadModel(withTensors('llama', layers(new Tensor([2], inv)))).model;
  assert.deepEqual([...m.computedBuffers], []);
  assert.deepEqual([...m.unusedWeights], []);
  const bad = withTensors('llama', layers(new Tensor([2], new Float32Array([1, 0.1]))));
  assert.throws(() => loadModel(bad), (e: unknown) => isInspectorError(e) && /inv_freq/.test(e.place.tensor ?? ''));
});

test('deepseek_v2: rotary inv_freq over qk_rope_head_dim is computed when absent, accepted per layer when present', () => {
  const dir = path.resolve(__dirname, '..', 'fixtures', 'hf', 'deepseek_v2');
  const plain = loadModel(dir).model;
  assert.deepEqual([...plain.computedBuffers], ['model.rotary_emb.inv_freq']);
  // qk_rope_head_dim 8, rope_theta 2000: 1 / 2000^(2i/8).
  const inv = new Tensor([4], new Float32Array([0, 1, 2, 3].map((i) => Math.fround(1 / Math.fround(Math.pow(2000, Math.fround((2 * i) / 8)))))));
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'saved-deepseek-'));
  fs.copyFileSync(path.join(dir, 'config.json'), path.join(copy, 'config.json'));
  const src = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
  const all: Record<string, Tensor> = {};
  for (const n of src.names()) all[n] = src.read(n);
  for (const i of [0, 1]) all[`model.layers.${i}.self_attn.rotary_emb.inv_freq`] = inv;
  writeSafetensors(path.join(copy, 'model.safetensors'), all);
  const m = loadModel(copy).model;
  assert.deepEqual([...m.computedBuffers], []);
  assert.deepEqual([...m.unusedWeights], []);
});
