/**
 * Every kind of bad input gives an InspectorError that says what is wrong and where: the file, the
 * config key or the tensor. Broken files are written into a temporary folder, never into fixtures.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InspectorError, type Place } from '../../engine/errors';
import { parseNativeConfig } from '../../engine/config/native';
import { buildNativeModel } from '../../engine/model/native';
import { loadModel } from '../../engine/model/load';
import { SafetensorsFile, writeSafetensors } from '../../engine/io/safetensors';
import { runTrace } from '../../engine/trace/step';
import type { ModelInput } from '../../engine/model/transformer';
import { Tensor } from '../../engine/tensor';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-input-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const TUTORIAL = { vocab_size: 40, d_model: 16, num_heads: 4, d_ff: 32, num_layers: 2, max_len: 10, dropout: 0.1 };

/** Run fn; it must throw an InspectorError whose message matches and whose place is as given. */
function expectError(fn: () => unknown, message: RegExp, place: Place = {}): InspectorError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected an InspectorError matching ${message}, but nothing was thrown`);
  assert.ok(caught instanceof InspectorError, `expected an InspectorError, got ${String(caught)}`);
  assert.match(caught.message, message);
  for (const k of ['file', 'key', 'tensor'] as const) {
    if (place[k] !== undefined) assert.equal(caught.place[k], place[k], `place.${k}`);
  }
  // What the user sees names the place as well.
  for (const v of Object.values(place)) assert.ok(caught.describe().includes(String(v)), `describe() names ${v}: ${caught.describe()}`);
  return caught;
}

function config(obj: unknown, name = 'm'): string {
  const p = path.join(TMP, `${name}.transformer.json`);
  fs.writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj, null, 2));
  return p;
}

// ── Configs ──────────────────────────────────────────────────────────────────────────────────────

test('malformed JSON names the file, line and column', () => {
  const text = '{\n  "vocab_size": 40,\n  "d_model": 16,,\n  "num_heads": 4\n}\n';
  const file = config(text, 'malformed');
  expectError(() => loadModel(file), /malformed JSON at line 3, column 17/, { file });
  expectError(() => parseNativeConfig('{"d_model": 16', 'x.transformer.json'), /malformed JSON at line 1/, { file: 'x.transformer.json' });
});

test('a missing key is named', () => {
  const { d_model: _d, ...rest } = TUTORIAL;
  const file = config(rest, 'missing');
  expectError(() => loadModel(file), /'d_model' is required/, { file, key: 'd_model' });
});

test('a string where a number belongs is named, with the value', () => {
  expectError(() => parseNativeConfig(JSON.stringify({ ...TUTORIAL, d_model: '16' }), 'f'), /'d_model' must be an integer, got the string "16"/, { key: 'd_model' });
  expectError(() => parseNativeConfig(JSON.stringify({ ...TUTORIAL, dropout: 'none' }), 'f'), /'dropout' must be a number/, { key: 'dropout' });
  expectError(() => parseNativeConfig(JSON.stringify({ ...TUTORIAL, num_layers: 2.5 }), 'f'), /'num_layers' must be an integer, got number 2.5/, { key: 'num_layers' });
});

test('an unknown key is named, with the nearest known key', () => {
  const { num_heads: _h, ...rest } = TUTORIAL;
  expectError(() => parseNativeConfig(JSON.stringify({ ...rest, num_head: 4 }), 'f'), /unknown key 'num_head' \(did you mean 'num_heads'\?\)/, { key: 'num_head' });
  expectError(() => parseNativeConfig(JSON.stringify({ ...TUTORIAL, colour: 'red' }), 'f'), /unknown key 'colour'/, { key: 'colour' });
});

test('d_model not divisible by num_heads', () => {
  expectError(() => parseNativeConfig(JSON.stringify({ ...TUTORIAL, num_heads: 3 }), 'f'), /d_model \(16\) must be divisible by num_heads \(3\)/, { key: 'num_heads' });
});

// ── Ids ──────────────────────────────────────────────────────────────────────────────────────────

const model = buildNativeModel(parseNativeConfig(JSON.stringify(TUTORIAL)));
const run = (input: ModelInput) => () => runTrace(model.forward(input));

test('an id ≥ vocab_size names the id, its position and the vocabulary', () => {
  expectError(run({ ids: [[1, 2, 40]] }), /input ids: id 40 at position 2 is outside the vocabulary \(0 … 39\)/);
  runTrace(model.forward({ ids: [[1, 2, 39]] })); // the last id is fine
});

test('a negative or fractional id is refused', () => {
  expectError(run({ ids: [[3, -1]] }), /input ids: id -1 at position 1 is outside the vocabulary/);
  expectError(run({ ids: [[1.5]] }), /input ids: id 1.5 at position 0/);
});

test('a sequence longer than max_len is refused, max_len itself is fine', () => {
  expectError(run({ ids: [Array.from({ length: 11 }, () => 1)] }), /input ids: sequence of 11 tokens is longer than the model's max_len \(10\)/);
  runTrace(model.forward({ ids: [Array.from({ length: 10 }, () => 1)] }));
});

test('decoder ids are checked against the target vocabulary', () => {
  const ed = buildNativeModel(parseNativeConfig(JSON.stringify({ ...TUTORIAL, architecture: 'encoder-decoder', tgt_vocab_size: 12 })));
  expectError(() => runTrace(ed.forward({ ids: [[30]], decoderIds: [[1, 12]] })), /decoder ids: id 12 at position 1 is outside the vocabulary \(0 … 11\)/);
  expectError(() => runTrace(ed.forward({ ids: [[30]] })), /needs decoder ids/);
});

// ── safetensors ──────────────────────────────────────────────────────────────────────────────────

/** A safetensors file from a raw header object and `dataBytes` bytes of data; headerLen overrides the length field. */
function rawFile(name: string, header: unknown, dataBytes: number, opts: { headerLen?: bigint; cutHeaderTo?: number } = {}): string {
  let json = Buffer.from(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.headerLen ?? BigInt(json.length));
  const body = opts.cutHeaderTo !== undefined ? json.subarray(0, opts.cutHeaderTo) : Buffer.concat([json, Buffer.alloc(dataBytes)]);
  const p = path.join(TMP, name);
  fs.writeFileSync(p, Buffer.concat([len, body]));
  return p;
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

test('a valid hand-written file opens (the broken ones below differ from it in one thing)', () => {
  const p = rawFile('ok.safetensors', { a: f32([2, 2], 0, 16), b: f32([3], 16, 28) }, 28);
  const f = SafetensorsFile.open(p);
  assert.deepEqual(f.names().sort(), ['a', 'b']);
  assert.deepEqual(f.read('b').shape, [3]);
});

test('safetensors: a truncated header', () => {
  const p = rawFile('truncated.safetensors', { a: f32([2], 0, 8) }, 8, { cutHeaderTo: 10 });
  expectError(() => SafetensorsFile.open(p), /header claims \d+ bytes but the file has only 10 after the length \(truncated file\)/, { file: p });
  const tiny = path.join(TMP, 'tiny.safetensors');
  fs.writeFileSync(tiny, Buffer.from([1, 2, 3]));
  expectError(() => SafetensorsFile.open(tiny), /3 bytes is too short/, { file: tiny });
});

test('safetensors: an oversized header length (2^40) is refused before anything is read', () => {
  const p = rawFile('huge.safetensors', { a: f32([2], 0, 8) }, 8, { headerLen: 2n ** 40n });
  expectError(() => SafetensorsFile.open(p), /header length 1099511627776 bytes is larger than the 100000000-byte limit/, { file: p });
});

test('safetensors: a header that is not JSON', () => {
  const p = path.join(TMP, 'notjson.safetensors');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(8n);
  fs.writeFileSync(p, Buffer.concat([len, Buffer.from('{"a": 1 ')]));
  expectError(() => SafetensorsFile.open(p), /header is not valid JSON/, { file: p });
});

test('safetensors: offsets past the end of the data', () => {
  const p = rawFile('pastend.safetensors', { a: f32([2], 0, 8), b: f32([4], 8, 24) }, 16);
  expectError(() => SafetensorsFile.open(p), /data_offsets \[8, 24\] point past the end of the data \(16 bytes/, { file: p, tensor: 'b' });
});

test('safetensors: overlapping tensors', () => {
  const p = rawFile('overlap.safetensors', { a: f32([4], 0, 16), b: f32([4], 8, 24) }, 24);
  expectError(() => SafetensorsFile.open(p), /tensors 'a' and 'b' overlap/, { file: p, tensor: 'b' });
});

test('safetensors: an unknown dtype', () => {
  const p = rawFile('dtype.safetensors', { a: { dtype: 'F8_E4M3X', shape: [4], data_offsets: [0, 4] } }, 4);
  expectError(() => SafetensorsFile.open(p), /unknown dtype "F8_E4M3X"/, { file: p, tensor: 'a' });
});

test('safetensors: shape × dtype ≠ byte length', () => {
  const p = rawFile('length.safetensors', { a: f32([3], 0, 16) }, 16);
  expectError(() => SafetensorsFile.open(p), /shape \[3\] × F32 needs 12 bytes but data_offsets \[0, 16\] span 16/, { file: p, tensor: 'a' });
});

test('safetensors: an integer tensor used as a weight', () => {
  const p = rawFile('int.safetensors', { a: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, 16);
  expectError(() => SafetensorsFile.open(p).read('a'), /dtype I64; weights must be F32, F16, BF16 or F64/, { file: p, tensor: 'a' });
});

// ── Weights that do not fit the config ───────────────────────────────────────────────────────────

/** A model folder: config + weights from seeded parameters, with `edit` applied to the tensor map. */
function modelFolder(name: string, edit: (t: Map<string, Tensor>) => void): { config: string; weights: string } {
  const dir = path.join(TMP, name);
  fs.mkdirSync(dir);
  const cfg = path.join(dir, `${name}.transformer.json`);
  fs.writeFileSync(cfg, JSON.stringify(TUTORIAL));
  const tensors = new Map(buildNativeModel(parseNativeConfig(JSON.stringify(TUTORIAL))).parameters);
  edit(tensors);
  const weights = path.join(dir, `${name}.safetensors`);
  writeSafetensors(weights, tensors);
  return { config: cfg, weights };
}

test('the unedited weights folder loads (so the failures below are the edits)', () => {
  const { config: cfg, weights } = modelFolder('intact', () => {});
  const loaded = loadModel(cfg);
  assert.equal(loaded.weightsPath, weights);
  assert.equal(loaded.model.seeded, false);
});

test('a missing tensor is named, with the shape the config implies', () => {
  const { config: cfg, weights } = modelFolder('missing', (t) => t.delete('encoder.layers.1.ffn.linear2.bias'));
  expectError(() => loadModel(cfg), /missing tensor \(expected shape \[16\]\)/, { file: weights, tensor: 'encoder.layers.1.ffn.linear2.bias' });
});

test('a mis-shaped tensor is named, with both shapes', () => {
  const { config: cfg, weights } = modelFolder('misshaped', (t) => t.set('fc_out.weight', new Tensor([16, 40])));
  expectError(() => loadModel(cfg), /has shape \[16, 40\] but the config implies \[40, 16\]/, { file: weights, tensor: 'fc_out.weight' });
});
