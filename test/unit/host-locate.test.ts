import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyAtOffset, parseKeyPath, spanOfKey, syntaxErrors } from '../../src/config/locate';
import { configKind, hfModelType } from '../../src/config/recognise';

const text = `{
  "d_model": 16,
  "num_heads": 3,
  "masks": [{"kind": "sliding_window", "window": 0}]
}`;

const at = (needle: string, plus = 1) => text.indexOf(needle) + plus;

test('keyAtOffset: the top-level key whose key or value is under the cursor', () => {
  assert.equal(keyAtOffset(text, at('"num_heads"'))?.key, 'num_heads');
  const onValue = keyAtOffset(text, at('3,', 0));
  assert.equal(onValue?.key, 'num_heads');
  assert.deepEqual(onValue?.span, { offset: text.indexOf('"num_heads"'), length: '"num_heads"'.length });
  assert.equal(keyAtOffset(text, at('"window"'))?.key, 'masks', 'nested keys hover as their top-level key');
  assert.deepEqual(keyAtOffset(text, at('"window"'))?.path, ['masks', 0, 'window']);
  assert.equal(keyAtOffset(text, 0), undefined, 'the opening brace is no key');
});

test('spanOfKey maps an InspectorError key (with array indices) to the range to underline', () => {
  assert.deepEqual(parseKeyPath('masks[0].window'), ['masks', 0, 'window']);
  assert.deepEqual(parseKeyPath('num_heads'), ['num_heads']);
  assert.deepEqual(spanOfKey(text, 'num_heads'), { offset: text.indexOf('"num_heads"'), length: 11 });
  assert.deepEqual(spanOfKey(text, 'masks[0].window'), { offset: text.indexOf('"window"'), length: 8 });
  // a missing key falls back to its nearest existing ancestor, or nothing
  assert.deepEqual(spanOfKey(text, 'masks[0].stride'), { offset: text.indexOf('{"kind"'), length: '{"kind": "sliding_window", "window": 0}'.length });
  assert.equal(spanOfKey(text, 'vocab_size'), undefined);
});

test('syntaxErrors gives malformed JSON at its offset', () => {
  const bad = '{\n  "d_model": 16\n  "num_heads": 2\n}';
  const errs = syntaxErrors(bad);
  assert.ok(errs.length > 0);
  assert.equal(errs[0].span.offset, bad.indexOf('"num_heads"'));
  assert.equal(errs[0].message, 'malformed JSON: comma expected');
  assert.deepEqual(syntaxErrors(text), []);
});

test('configs are recognised by name (*.transformer.json) or by content (config.json with model_type)', () => {
  assert.equal(configKind('/a/tutorial.transformer.json', undefined), 'native');
  assert.equal(configKind('/a/config.json', '{"model_type": "llama"}'), 'huggingface');
  assert.equal(configKind('C:\\models\\config.json', '{"model_type": "gpt2"}'), 'huggingface');
  assert.equal(configKind('/a/config.json', '{"name": "not a model"}'), undefined);
  assert.equal(configKind('/a/package.json', '{"model_type": "llama"}'), undefined);
  assert.equal(configKind('/a/myconfig.json', '{"model_type": "llama"}'), undefined);
  assert.equal(hfModelType('[1, 2]'), undefined);
  assert.equal(hfModelType('{"model_type": 3}'), undefined);
});
