import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  exactBytes,
  formatDims,
  formatPosition,
  formatShape,
  formatValue,
  humanBytes,
  percent,
  thousands,
} from '../../webview/format';

test('thousands separators on decimal strings beyond 2^53', () => {
  assert.equal(thousands('124439808'), '124,439,808');
  assert.equal(thousands('999'), '999');
  assert.equal(thousands('1000'), '1,000');
  assert.equal(thousands('0'), '0');
  assert.equal(thousands('-1234567'), '-1,234,567');
  assert.equal(thousands('12345678901234567890123'), '12,345,678,901,234,567,890,123');
  assert.equal(thousands(12345), '12,345');
  assert.equal(thousands(10n ** 18n), '1,000,000,000,000,000,000');
  assert.equal(thousands('007'), '7');
  assert.equal(thousands('n/a'), 'n/a', 'not a number: shown as given');
});

test('bytes in binary units, exact bytes for the hover', () => {
  assert.equal(humanBytes('0'), '0 B');
  assert.equal(humanBytes('1023'), '1023 B');
  assert.equal(humanBytes('1024'), '1.00 KiB');
  assert.equal(humanBytes('1536'), '1.50 KiB');
  assert.equal(humanBytes(String(124439808 * 4)), '474.7 MiB');
  assert.equal(humanBytes(String(7 * 2 ** 30)), '7.00 GiB');
  assert.equal(humanBytes(String(140 * 2 ** 30)), '140.0 GiB');
  assert.equal(humanBytes((2n ** 70n).toString()), '1024.0 EiB', 'beyond EiB stays in EiB');
  assert.equal(humanBytes('36864'), '36.0 KiB');
  assert.equal(exactBytes('497759232'), '497,759,232 bytes');
  assert.equal(exactBytes('1'), '1 byte');
});

test('percent of a total with BigInt precision', () => {
  assert.equal(percent('1', '4'), '25.0%');
  assert.equal(percent('38597376', '124439808'), '31.0%');
  assert.equal(percent('1', '100000'), '<0.1%');
  assert.equal(percent('0', '10'), '0.0%');
  assert.equal(percent('5', '0'), '');
});

test('tensor values: four significant figures, real minus, exponent at the extremes', () => {
  assert.equal(formatValue(0), '0');
  assert.equal(formatValue(1.23456), '1.235');
  assert.equal(formatValue(-0.5), '−0.5');
  assert.equal(formatValue(123.456), '123.5');
  assert.equal(formatValue(-1e9), '−1e9');
  assert.equal(formatValue(0.000123456), '1.23e-4');
  assert.equal(formatValue(Infinity), '+∞');
  assert.equal(formatValue(-Infinity), '−∞');
  assert.equal(formatValue(NaN), 'NaN');
});

test('shapes, dims and the stepper position', () => {
  assert.equal(formatShape([1, 5, 16]), '[1, 5, 16]');
  assert.equal(formatDims(['batch', 'pos', 'd_model'], [1, 5, 16]), 'batch 1 × pos 5 × d_model 16');
  assert.equal(formatDims(['batch'], [1, 5]), '[1, 5]');
  assert.equal(formatPosition(2, 7, false), '3 / 7 computed so far');
  assert.equal(formatPosition(2, 42, true), '3 / 42');
  assert.equal(formatPosition(-1, 0, false), '0 / 0 computed so far');
});

test('tokens as labels make edge whitespace visible', async () => {
  const { visibleToken } = await import('../../webview/format');
  assert.equal(visibleToken(' the'), '␣the');
  assert.equal(visibleToken('a b'), 'a b');
  assert.equal(visibleToken('x  '), 'x␣␣');
  assert.equal(visibleToken('\n'), '↵');
  assert.equal(visibleToken('\t1'), '→1');
  assert.equal(visibleToken(''), '∅');
});

test('visibleToken escapes other control characters as \\xNN', async () => {
  const { visibleToken } = await import('../../webview/format');
  assert.equal(visibleToken('\u0000'), '\\x00');
  assert.equal(visibleToken('a\u001bb'), 'a\\x1bb');
  assert.equal(visibleToken('\u007f'), '\\x7f');
  assert.equal(visibleToken('é'), 'é');
});

test('ordinal suffixes for the stride caption', async () => {
  const { ordinal } = await import('../../webview/components/tensor-view');
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal), [
    '1st',
    '2nd',
    '3rd',
    '4th',
    '11th',
    '12th',
    '13th',
    '21st',
    '22nd',
    '101st',
  ]);
});

test('prediction probabilities as percentages, tiny ones as <0.1%', async () => {
  const { formatProb } = await import('../../webview/components/predictions-view');
  assert.equal(formatProb(0.4123), '41.2%');
  assert.equal(formatProb(1), '100.0%');
  assert.equal(formatProb(0.00005), '<0.1%');
  assert.equal(formatProb(0), '0%');
});
