import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GgufFile } from '../../engine/io/gguf';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { SafetensorsFile } from '../../engine/io/safetensors';
import { InspectorError } from '../../engine/errors';
import { loadTokenizer } from '../../engine/io/tokenizer';
import { runGguf } from '../../engine/cli/gguf';
import { assertClose } from '../helpers/close';

/**
 * GGUF files written by tools/golden/gen_gguf.py with llama.cpp's `gguf` package: the engine's dequantized
 * tensors equal gguf.quants.dequantize bit for bit (sha256 of the float32 bytes), and the model's logits
 * equal Hugging Face's LlamaForCausalLM on the dequantized weights. K-quants: random valid blocks.
 */
const DIR = path.resolve(__dirname, '..', 'fixtures', 'quant', 'gguf');
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as {
  input_ids: number[][];
  files: Record<string, { sha256: Record<string, string> }>;
};

const logitsRef = SafetensorsFile.open(path.join(DIR, 'expected-logits.safetensors'));
const sha = (a: Float32Array) => crypto.createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

for (const [file, ref] of Object.entries(expected.files)) {
  test(`GGUF ${file}: every tensor dequantizes as gguf.quants does, logits as PyTorch`, () => {
    const g = GgufFile.open(path.join(DIR, file));
    assert.equal(g.metadata.get('general.architecture'), 'llama');
    assert.equal(g.tensors.size, Object.keys(ref.sha256).length);
    for (const [name, hash] of Object.entries(ref.sha256)) assert.equal(sha(g.read(name).data), hash, name);
    const loaded = loadModel(path.join(DIR, file));
    assert.equal(loaded.spec.family, 'llama');
    assert.deepEqual(loaded.model.unusedWeights, []);
    const logits = runTrace(loaded.model.forward({ ids: expected.input_ids })).result;
    assertClose(logits.data, logitsRef.read(file).data, 1e-5, `${file} logits`);
  });
}

test('GGUF K-quants (and every block type) on random valid blocks equal gguf.quants.dequantize bit for bit', () => {
  const g = GgufFile.open(path.join(DIR, 'kquants.gguf'));
  const ref = SafetensorsFile.open(path.join(DIR, 'kquants-expected.safetensors'));
  for (const type of ['Q4_K', 'Q5_K', 'Q6_K', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0']) {
    const name = `random.${type}`;
    assert.equal(g.tensors.get(name)?.type, type);
    const got = g.read(name);
    const want = ref.read(name);
    assert.deepEqual(got.shape, want.shape, name);
    const differ = got.data.findIndex((v, i) => !Object.is(v, want.data[i]));
    assert.equal(differ, -1, `${name}[${differ}]: ${got.data[differ]} vs ${want.data[differ]}`);
  }
});

function withBytes(edit: (b: Buffer) => Buffer, pattern: RegExp): void {
  const src = fs.readFileSync(path.join(DIR, 'llama-Q8_0.gguf'));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ti-gguf-')), 'bad.gguf');
  fs.writeFileSync(file, edit(Buffer.from(src)));
  try {
    assert.throws(() => GgufFile.open(file), (e: unknown) => e instanceof InspectorError && pattern.test(e.describe()), String(pattern));
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

/** Byte position of a tensor's info record (its name's length prefix) in the header. */
function infoAt(b: Buffer, name: string): number {
  return b.indexOf(Buffer.from(name, 'utf8')) - 8;
}

test('bad GGUF input is a named error: unknown type, truncated data, lying offsets, bad magic, truncated header', () => {
  const name = 'blk.0.attn_q.weight';
  // The type field follows name, n_dims (u32) and n_dims × u64 dims.
  const typeAt = (b: Buffer) => infoAt(b, name) + 8 + name.length + 4 + 2 * 8;
  withBytes((b) => (b.writeUInt32LE(19, typeAt(b)), b), /tensor 'blk\.0\.attn_q\.weight': ggml type 19 is not supported/);
  withBytes((b) => b.subarray(0, b.length - 100), /tensor '[^']+': .* needs bytes .* but the file has \d+ \(truncated, or a wrong offset\)/);
  withBytes((b) => (b.writeBigUInt64LE(0n, typeAt(b) + 4), b), /data overlaps tensor .* \(offsets lie\)|data overlaps/);
  withBytes((b) => (b.writeBigUInt64LE(1n << 40n, typeAt(b) + 4), b), /tensor 'blk\.0\.attn_q\.weight': Q8_0 \[32, 32\] needs bytes .*\(truncated, or a wrong offset\)/);
  withBytes((b) => (b.writeBigUInt64LE(3n, typeAt(b) + 4), b), /data offset 3 is not a multiple of the alignment 32/);
  withBytes((b) => (b.write('GGML', 0, 'latin1'), b), /not a GGUF file/);
  withBytes((b) => b.subarray(0, 200), /the file ends inside the header/);
  withBytes((b) => (b.writeUInt32LE(7, 4), b), /GGUF version 7 is not supported/);
});

test('a GGUF’s byte-level BPE (tokenizer.ggml.model gpt2) tokenizes as the tokenizer.json it came from', () => {
  const fromGguf = loadModel(path.join(DIR, 'llama-Q8_0.gguf')).tokenizer;
  assert.ok(fromGguf, 'tokenizer from the GGUF metadata');
  const reference = loadTokenizer(path.resolve(__dirname, '..', 'fixtures', 'hf', 'gpt2', 'config.json'))!;
  for (const text of ['a bat ate the rat', 'The cat sat on the mat.', '  two  spaces, and\nnewlines', 'Ünïcödé ✓ <|endoftext|> end']) {
    assert.deepEqual(fromGguf.encode(text), reference.encode(text), JSON.stringify(text));
  }
  assert.equal(fromGguf.label(reference.encode(' the').ids[0]), ' the');
  // Files without tokenizer metadata run on ids.
  assert.equal(loadModel(path.join(DIR, 'llama-F16.gguf')).tokenizer, undefined);
});

test('gguf CLI: metadata readable (arrays summarised), tensors by type with bytes and bits per weight', () => {
  const lines: string[] = [];
  assert.equal(runGguf([path.join(DIR, 'llama-Q8_0.gguf'), '--json', '--tensors'], (s) => lines.push(s)), 0);
  const s = JSON.parse(lines.join('\n')) as { parameters: number; types: Record<string, { tensors: number; parameters: number; bytes: number }>; metadata: Record<string, string>; tensors: { name: string; type: string; shape: number[] }[] };
  assert.equal(s.parameters, 26784, 'the golden llama’s parameter count');
  assert.deepEqual(s.types.Q8_0, { tensors: 16, parameters: 26624, bytes: (26624 / 32) * 34 });
  assert.equal(s.types.F32.tensors, 5);
  assert.equal(s.metadata['general.architecture'], '"llama"');
  assert.match(s.metadata['tokenizer.ggml.tokens'], /^\[128 items: "!", /);
  assert.deepEqual(s.tensors.find((t) => t.name === 'blk.0.ffn_down.weight'), { name: 'blk.0.ffn_down.weight', type: 'Q8_0', shape: [32, 64] });
  const text: string[] = [];
  runGguf([path.join(DIR, 'llama-Q4_0.gguf')], (l) => text.push(l));
  assert.ok(text.some((l) => /Q4_0 +16 tensors .* \(4\.50 bits\/weight\)/.test(l)));
  assert.throws(() => runGguf([path.join(DIR, 'llama-Q4_0.gguf'), '--bogus']), /unknown option --bogus/);
});
