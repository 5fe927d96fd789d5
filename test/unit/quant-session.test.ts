import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Session, NO_CONTROL } from '../../engine/worker/session';
import { loadModel } from '../../engine/model/load';
import { quantizeAndMeasure } from '../../engine/cli/quantize';
import { isInspectorError } from '../../engine/errors';
import { parseQuantizeSpec, type QuantizeSpec } from '../../protocol/quant';
import type { Moved, Quantized, QuantStepReply } from '../../protocol/worker';

const TINY_LLAMA = resolve('examples/tiny-llama/config.json');
const RTN4: QuantizeSpec = { method: 'rtn', bits: 4, group: 32, calibration: { kind: 'input' } };

function loadedSession(): Session {
  const s = new Session();
  s.load(TINY_LLAMA, { text: 'In the beginning God created the heaven and the earth.' }, 'auto', NO_CONTROL);
  return s;
}

function stepData(r: Moved): Float32Array {
  assert.equal(r.position.kind, 'step');
  return r.position.kind === 'step' ? r.position.step.view.data : new Float32Array();
}

test('quantize: the report is the engine measurement on the current input, and the float pass is untouched', () => {
  const s = loadedSession();
  const logitsBefore = stepData(s.move({ to: 'hook', name: 'logits' }, NO_CONTROL));
  const { reply, transfer } = s.handle({ kind: 'quantize', spec: RTN4 });
  const report = (reply as Quantized).report;
  assert.equal(reply.kind, 'quantized');
  assert.equal(transfer.length, 0);
  const ids = s.tokenize('In the beginning God created the heaven and the earth.').ids;
  assert.equal(report.calib_tokens, ids.length);
  assert.equal(report.calibration, 'the current input');
  assert.equal(report.layers.length, 3 * 7, 'q/k/v/o and gate/up/down of three blocks');
  assert.ok(report.weights_bytes < report.weights_bytes_fp);

  // The same numbers as quantizing a fresh copy of the model directly.
  const fresh = loadModel(TINY_LLAMA);
  const direct = quantizeAndMeasure(fresh, { method: 'rtn', bits: 4, group: 32, sym: false }, [ids], [ids]).report;
  assert.deepEqual(report.layers, direct.layers);
  assert.equal(report.perplexity_q, direct.perplexity_q);
  assert.equal(report.kl_mean, direct.kl_mean);
  assert.ok(report.kl_mean > 0 && report.perplexity_fp !== report.perplexity_q);

  // The stepper still walks the float model.
  s.move({ to: 'start' }, NO_CONTROL);
  assert.deepEqual(stepData(s.move({ to: 'hook', name: 'logits' }, NO_CONTROL)), logitsBefore);
});

test('quantStep: float and quantized side by side, their difference, zero before the first quantized layer', () => {
  const s = loadedSession();
  s.quantize(RTN4, NO_CONTROL);
  const before = s.move({ to: 'hook', name: 'hook_embed' }, NO_CONTROL);
  const embed = s.quantStep();
  assert.equal(embed.rel_error, 0, 'embeddings stay in float');
  assert.equal(embed.max_abs_diff, 0);
  assert.deepEqual(embed.fp.data, stepData(before));

  const at = s.move({ to: 'hook', name: 'blocks.2.hook_resid_post' }, NO_CONTROL);
  const { reply, transfer } = s.handle({ kind: 'quantStep' });
  const q = (reply as QuantStepReply).step;
  assert.equal(q.name, 'blocks.2.hook_resid_post');
  assert.equal(transfer.length, 3);
  assert.deepEqual(q.fp.data, stepData(at), 'the float side is the stepper’s own step');
  assert.ok(q.rel_error > 0 && q.rel_error < 0.5, `resid rel error ${q.rel_error}`);
  assert.equal(q.diff.rows, q.fp.rows);
  for (let i = 0; i < q.diff.data.length; i++) assert.equal(q.diff.data[i], Math.fround(q.quantized.data[i] - q.fp.data[i]));
  assert.ok(q.max_abs_diff > 0);
});

test('quantStep: attention hooks one head at a time; the quantized pass follows a new input', () => {
  const s = loadedSession();
  s.quantize({ method: 'int8', bits: 8, calibration: { kind: 'sample' } }, NO_CONTROL);
  s.move({ to: 'hook', name: 'blocks.1.attn.hook_pattern' }, NO_CONTROL);
  const h0 = s.quantStep(0);
  const h1 = s.quantStep(1);
  assert.equal(h0.head, 0);
  assert.equal(h0.fp.rows, h0.fp.cols, 'query × key');
  assert.notDeepEqual(h0.fp.data, h1.fp.data);
  assert.throws(() => s.quantStep(99), (e) => isInspectorError(e) && /head 99/.test(e.message));

  s.setInput({ ids: [1, 2, 3] }, NO_CONTROL);
  s.move({ to: 'hook', name: 'blocks.1.attn.hook_pattern' }, NO_CONTROL);
  assert.equal(s.quantStep(0).fp.rows, 3);
});

test('quantize: named errors; a new load drops the quantized model', () => {
  const s = loadedSession();
  assert.throws(() => s.quantStep(), (e) => isInspectorError(e) && /not quantized/.test(e.message));
  assert.throws(() => s.quantize({ method: 'rtn', bits: 4, group: 48, calibration: { kind: 'input' } }, NO_CONTROL), isInspectorError);
  assert.throws(() => s.quantize({ method: 'gptq', bits: 4, calibration: { kind: 'text', text: ' \n ' } }, NO_CONTROL), (e) => isInspectorError(e) && /empty/.test(e.message));
  s.quantize({ ...RTN4, calibration: { kind: 'text', text: 'And God said, Let there be light: and there was light.', source: 'light.txt' } }, NO_CONTROL);
  s.move({ to: 'next' }, NO_CONTROL);
  assert.equal(s.quantStep().rel_error, 0);
  s.load(TINY_LLAMA, undefined, 'auto', NO_CONTROL);
  s.move({ to: 'next' }, NO_CONTROL);
  assert.throws(() => s.quantStep(), (e) => isInspectorError(e) && /not quantized/.test(e.message));
});

test('parseQuantizeSpec accepts well-formed specs only', () => {
  assert.deepEqual(parseQuantizeSpec({ method: 'gptq', bits: 4, group: 128, calibration: { kind: 'sample' }, extra: 1 }), { method: 'gptq', bits: 4, group: 128, calibration: { kind: 'sample' } });
  assert.deepEqual(parseQuantizeSpec({ method: 'awq', bits: 3, sym: true, calibration: { kind: 'text', text: 'a', source: 'f.txt' } }), { method: 'awq', bits: 3, sym: true, calibration: { kind: 'text', text: 'a', source: 'f.txt' } });
  for (const bad of [
    null,
    'gptq',
    { method: 'gguf', bits: 4, calibration: { kind: 'sample' } },
    { method: 'rtn', bits: 9, calibration: { kind: 'sample' } },
    { method: 'rtn', bits: 1, calibration: { kind: 'sample' } },
    { method: 'rtn', bits: 4.5, calibration: { kind: 'sample' } },
    { method: 'rtn', bits: 4, group: 0, calibration: { kind: 'sample' } },
    { method: 'rtn', bits: 4, group: '32', calibration: { kind: 'sample' } },
    { method: 'rtn', bits: 4, sym: 'yes', calibration: { kind: 'sample' } },
    { method: 'rtn', bits: 4 },
    { method: 'rtn', bits: 4, calibration: { kind: 'file', path: '/etc/passwd' } },
    { method: 'rtn', bits: 4, calibration: { kind: 'text', text: 5 } },
  ]) {
    assert.equal(parseQuantizeSpec(bad), undefined, JSON.stringify(bad));
  }
});

test('quantize: progress layer by layer; a cancel part-way leaves the float model whole', () => {
  const s = loadedSession();
  const logits = stepData(s.move({ to: 'hook', name: 'logits' }, NO_CONTROL));
  const fractions: number[] = [];
  let cancel = false;
  const control = {
    cancelled: () => cancel,
    progress: (_m: string, f?: number) => {
      if (f !== undefined) fractions.push(f);
      if (f !== undefined && f >= 0.5) cancel = true;
    },
  };
  assert.throws(() => s.quantize({ method: 'gptq', bits: 3, group: 32, calibration: { kind: 'input' } }, control), (e) => isInspectorError(e) && /cancelled/.test(e.message));
  assert.ok(fractions.length >= 3 && fractions[0] === 0 && fractions.every((f, i) => i === 0 || f > fractions[i - 1]), `fractions ${fractions.join(', ')}`);
  assert.throws(() => s.quantStep(), (e) => isInspectorError(e) && /not quantized/.test(e.message));
  s.move({ to: 'start' }, NO_CONTROL);
  assert.deepEqual(stepData(s.move({ to: 'hook', name: 'logits' }, NO_CONTROL)), logits, 'the float weights are back');
  // Computed afresh (a new input), not the steps kept from before: the kernels run the float weights again.
  const other = { ids: [5, 9, 2, 7, 1, 3] };
  s.setInput(other, NO_CONTROL);
  const fresh0 = loadedSession();
  fresh0.setInput(other, NO_CONTROL);
  assert.deepEqual(stepData(s.move({ to: 'hook', name: 'logits' }, NO_CONTROL)), stepData(fresh0.move({ to: 'hook', name: 'logits' }, NO_CONTROL)), 'a new pass runs on the float weights');
  s.setInput({ text: 'In the beginning God created the heaven and the earth.' }, NO_CONTROL);
  // And a later quantization starts from float: the same report as on a fresh session.
  const again = s.quantize(RTN4, NO_CONTROL);
  const fresh = loadedSession().quantize(RTN4, NO_CONTROL);
  assert.deepEqual(again.layers, fresh.layers);
});
