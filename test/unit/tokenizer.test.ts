import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTokenizer } from '../../engine/io/tokenizer';
import { InspectorError } from '../../engine/errors';

/** A tiny WordPiece tokenizer.json in the Hugging Face format (what BertTokenizerFast saves). */
const WORDPIECE = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [{ id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: null,
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: { '[UNK]': 0, the: 1, cat: 2, sat: 3, '##s': 4, '.': 5 } },
};

function dirWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-tok-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

test('a tokenizer.json beside the config tokenizes text with the tokenizers library and labels ids', () => {
  const dir = dirWith({ 'tokenizer.json': JSON.stringify(WORDPIECE), 'config.json': '{}' });
  const tok = loadTokenizer(path.join(dir, 'config.json'));
  assert.ok(tok);
  const { ids, tokens } = tok.encode('The cats sat. Dog');
  assert.deepEqual(ids, [1, 2, 4, 3, 5, 0]);
  assert.deepEqual(tokens, ['the', 'cat', '##s', 'sat', '.', '[UNK]']);
  assert.equal(tok.label(2), 'cat');
});

test('no tokenizer.json: undefined; a broken one: a clear error naming the file', () => {
  assert.equal(loadTokenizer(path.join(dirWith({ 'config.json': '{}' }), 'config.json')), undefined);
  const dir = dirWith({ 'tokenizer.json': '{"model": ', 'config.json': '{}' });
  assert.throws(
    () => loadTokenizer(path.join(dir, 'config.json')),
    (e: unknown) => e instanceof InspectorError && e.describe().includes('tokenizer.json'),
  );
});

test('a token that is part of a multi-byte character is labelled by its bytes, visibly', async () => {
  const { loadTokenizer, byteLabel } = await import('../../engine/io/tokenizer');
  const { resolve } = await import('node:path');
  const tok = loadTokenizer(resolve(__dirname, '..', '..', 'examples', 'tiny-llama', 'config.json'))!;
  const labels = tok.encode('café — naïve').ids.map((id) => tok.label(id));
  assert.ok(!labels.some((l) => l.includes('\ufffd')), labels.join(' '));
  assert.deepEqual(labels.filter((l) => l.startsWith('\\x')), ['\\xC3', '\\xA9', '\\xE2', '\\x80', '\\x94', '\\xC3', '\\xAF']);
  assert.equal(byteLabel('<0xe2>'), '\\xE2', 'SentencePiece byte fallback');
  assert.equal(byteLabel('Ã'), '\\xC3', 'GPT-2 byte-level alphabet');
  assert.equal(byteLabel('Ġ'), ' ');
  assert.equal(byteLabel('日'), undefined);
});
