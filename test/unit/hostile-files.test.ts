import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, mkdirSync, writeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isInspectorError } from '../../engine/errors';
import { FILE_LIMITS, openGuarded, readGuarded } from '../../engine/io/guarded';
import { loadJsonFile, parseJsonText } from '../../engine/config/json';
import { loadModel, openWeights } from '../../engine/model/load';
import { SafetensorsFile, encodeSafetensors } from '../../engine/io/safetensors';
import { Tensor } from '../../engine/tensor';
import { hasNestedQuantifier } from '../../engine/io/patterns';
import { loadTokenizer } from '../../engine/io/tokenizer';
import { parseNativeConfig } from '../../engine/config/native';
import { configKind } from '../../src/config/recognise';
import { keyAtOffset, spanOfKey, syntaxErrors } from '../../src/config/locate';

// Hostile files (issue 9, "Found"): each must give a named InspectorError, fast, never a hang or a crash.
const dir = mkdtempSync(join(tmpdir(), 'ti-hostile-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const gpt2 = resolve('test/fixtures/hf/gpt2');

/** A copy of the tiny GPT-2 fixture folder, with `replace` swapped in. */
function modelFolder(name: string, replace: Record<string, (file: string) => void> = {}): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
    if (replace[f]) replace[f](join(d, f));
    else copyFileSync(join(gpt2, f), join(d, f));
  }
  return d;
}

function named(f: () => unknown, pattern: RegExp): void {
  const t0 = Date.now();
  assert.throws(f, (e: unknown) => {
    assert.ok(isInspectorError(e), `expected an InspectorError, got ${String(e)}`);
    assert.match(e.describe(), pattern);
    return true;
  });
  assert.ok(Date.now() - t0 < 5000, 'answered within 5 s');
}

const toDevZero = (f: string) => symlinkSync('/dev/zero', f);

test('a tokenizer.json, config.json or shard index that is a symlink to /dev/zero is refused by name', () => {
  named(() => loadModel(modelFolder('zero-tok', { 'tokenizer.json': toDevZero })), /tokenizer\.json: cannot read tokenizer: it is a character device/);
  named(() => loadModel(modelFolder('zero-cfg', { 'config.json': toDevZero })), /config\.json: cannot read config: it is a character device/);
  const idx = modelFolder('zero-idx', { 'model.safetensors': () => {} });
  symlinkSync('/dev/zero', join(idx, 'model.safetensors.index.json'));
  named(() => loadModel(idx), /index\.json: cannot read shard index: it is a character device/);
  named(() => loadModel(modelFolder('zero-st', { 'model.safetensors': toDevZero })), /model\.safetensors: cannot read weights file: it is a character device/);
});

test('a FIFO or a folder where a file belongs is refused without blocking', () => {
  const d = modelFolder('fifo', { 'tokenizer.json': (f) => execFileSync('mkfifo', [f]) });
  named(() => loadModel(d), /tokenizer\.json: cannot read tokenizer: it is a FIFO/);
  named(() => loadModel(modelFolder('folder', { 'tokenizer.json': (f) => mkdirSync(f) })), /cannot read tokenizer: it is a folder/);
});

test('files over their kind size limit are refused before they are read', () => {
  const big = join(dir, 'big-config.json');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, FILE_LIMITS.config + 1); // sparse
  closeSync(fd);
  named(() => readGuarded(big, 'config'), /config is 16,777,217 bytes: too large \(at most 16,777,216\)/);
  named(() => loadJsonFile(big, 'config'), /too large/);
  const f = openGuarded(join(gpt2, 'config.json'), 'config');
  f.close();
  assert.ok(f.size > 0);
});

test('a 100,000-deep nested config is a named error on every path (engine and host functions)', () => {
  const deep = '{"model_type":"gpt2","x":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
  named(() => parseJsonText(deep, 'config.json'), /nested deeper than 256 levels/);
  const d = modelFolder('deep', { 'config.json': (f) => writeFileSync(f, deep) });
  named(() => loadModel(d), /nested deeper/);
  named(() => parseNativeConfig(deep, 'x.transformer.json'), /nested deeper/);
  // The host's config functions run for CodeLens, hovers and diagnostics: none may throw.
  assert.equal(configKind('/m/config.json', deep), undefined);
  assert.match(syntaxErrors(deep)[0].message, /nested deeper than 256/);
  assert.equal(keyAtOffset(deep, 30), undefined);
  assert.equal(spanOfKey(deep, 'x'), undefined);
});

test('an unknown native key of a million characters is answered at once, its echo truncated', () => {
  const key = 'k'.repeat(1_000_000);
  const t0 = Date.now();
  named(() => parseNativeConfig(JSON.stringify({ [key]: 1 }), 'x.transformer.json'), /unknown key 'k{60}… \(1000000 characters\)'/);
  assert.ok(Date.now() - t0 < 1000);
  named(() => parseNativeConfig(JSON.stringify({ num_layerz: 1 }), 'x.transformer.json'), /did you mean 'num_layers'/);
});

test('a tokenizer whose pattern backtracks catastrophically is refused when read', () => {
  const d = modelFolder('regex', {
    'tokenizer.json': (f) => {
      const tok = JSON.parse(readFileSync(join(gpt2, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
      tok.pre_tokenizer = { type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated', invert: false };
      writeFileSync(f, JSON.stringify(tok));
    },
  });
  named(() => loadTokenizer(join(d, 'config.json')), /the tokenizer pattern \/\(a\+\)\+\$\/ repeats a group that itself repeats/);
  // Real tokenizers' patterns are not flagged.
  for (const p of [
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ' ?[^(\\s|[.,!?…。，、।۔،])]+',
  ]) {
    assert.equal(hasNestedQuantifier(p), false, p);
  }
  for (const p of ['(a+)+$', '(\\w*)*x', '(?:ab+c?)+', '((a)+)*', '(x+){2,}']) assert.equal(hasNestedQuantifier(p), true, p);
});

/** A safetensors file whose header is `header` (raw JSON text) and data `dataBytes` zeros. */
function rawSafetensors(name: string, header: string, dataBytes: number): string {
  const h = Buffer.from(header);
  const buf = Buffer.alloc(8 + h.length + dataBytes);
  buf.writeBigUInt64LE(BigInt(h.length));
  h.copy(buf, 8);
  const f = join(dir, name);
  writeFileSync(f, buf);
  return f;
}

test('safetensors: duplicate names, holes, trailing bytes and non-string metadata are named, not taken silently', () => {
  const t = (o: number) => `{"dtype":"F32","shape":[2],"data_offsets":[${o},${o + 8}]}`;
  named(() => SafetensorsFile.open(rawSafetensors('dup.safetensors', `{"a":${t(0)},"a":${t(8)}}`, 16)), /tensor 'a': the header names tensor 'a' twice/);
  named(() => SafetensorsFile.open(rawSafetensors('hole.safetensors', `{"a":${t(0)},"b":${t(12)}}`, 20)), /tensor 'b': 4 unused bytes after 'a'/);
  named(() => SafetensorsFile.open(rawSafetensors('tail.safetensors', `{"a":${t(0)}}`, 12)), /4 bytes after the last tensor's data are not part of any tensor/);
  named(() => SafetensorsFile.open(rawSafetensors('meta.safetensors', `{"__metadata__":{"n":3},"a":${t(0)}}`, 8)), /__metadata__ values must be strings; 'n' is number/);
  // The valid file still opens.
  assert.deepEqual(SafetensorsFile.open(rawSafetensors('ok.safetensors', `{"__metadata__":{"n":"3"},"a":${t(0)}}`, 8)).names(), ['a']);
});

test('a 4.5 GB tensor is named (not ERR_OUT_OF_RANGE) when it is read', () => {
  const n = 1_125_000_000; // F32: 4.5 GB
  const header = Buffer.from(JSON.stringify({ big: { dtype: 'F32', shape: [n], data_offsets: [0, n * 4] } }));
  const f = join(dir, 'huge.safetensors');
  const fd = openSync(f, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeSync(fd, len, 0, 8, 0);
  writeSync(fd, header, 0, header.length, 8);
  ftruncateSync(fd, 8 + header.length + n * 4); // sparse: no disk used
  closeSync(fd);
  const st = SafetensorsFile.open(f);
  named(() => st.read('big'), /tensor 'big': tensor is 4\.50 GB .*larger than one tensor the engine can hold/);
});

test('shard indexes: a tensor in two shards, a tensor missing from weight_map, a non-string shard are named', () => {
  const w = (name: string, tensors: Record<string, Tensor>) => writeFileSync(join(dir, name), encodeSafetensors(tensors));
  const one = new Tensor([2], new Float32Array([1, 2]));
  const idx = (name: string, map: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify({ weight_map: map }));
    return f;
  };
  w('s1.safetensors', { a: one, b: one });
  w('s2.safetensors', { b: one, c: one });
  named(() => openWeights(idx('two.index.json', { a: 's1.safetensors', b: 's1.safetensors', c: 's2.safetensors' })), /tensor 'b': this tensor is in two shards \(s1\.safetensors and s2\.safetensors\)/);
  w('s3.safetensors', { a: one, b: one });
  named(() => openWeights(idx('missing.index.json', { a: 's3.safetensors' })), /tensor 'b': s3\.safetensors holds this tensor but the index's weight_map does not name it/);
  named(() => openWeights(idx('nonstring.index.json', { a: 7 })), /weight_map values must be shard file names/);
  w('s4.safetensors', { a: one });
  named(() => openWeights(idx('lying.index.json', { a: 's3.safetensors' })), /tensor 'a': the index puts this tensor in s3\.safetensors, but it is not there|weight_map does not name it/);
});

test('a native config with max_len 10^7 and a stored table of another length is refused before the table is computed', () => {
  const d = join(dir, 'sinus');
  mkdirSync(d);
  const cfg = { vocab_size: 16, d_model: 8, num_heads: 2, d_ff: 16, num_layers: 1, max_len: 10_000_000 };
  writeFileSync(join(d, 'm.transformer.json'), JSON.stringify(cfg));
  writeFileSync(join(d, 'm.safetensors'), encodeSafetensors({ 'pos_encoding.pe': new Tensor([1, 16, 8]) }));
  const t0 = Date.now();
  named(() => loadModel(d), /stored sinusoidal table has shape \[1, 16, 8\] but max_len × d_model is \[10000000, 8\]/);
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
});
