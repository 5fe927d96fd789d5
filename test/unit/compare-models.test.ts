// Compare With… another model (engine/worker/model-compare.ts through the session): a second checkpoint of
// tiny-llama (its weights perturbed, written on the fly), the quantized copy, and refused pairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session, NO_CONTROL } from '../../engine/worker/session';
import { loadModel } from '../../engine/model/load';
import { SafetensorsFile, writeSafetensors } from '../../engine/io/safetensors';
import { Tensor } from '../../engine/tensor';
import { runTrace } from '../../engine/trace/step';
import { chooseComparer } from '../../engine/worker/model-compare';
import { quantizeModel } from '../../engine/quant/quantize-model';
import { writeQuantizedCheckpoint } from '../../engine/quant/write-checkpoint';
import type { Comparison, QuantStepReply } from '../../protocol/worker';

const TINY = resolve('examples/tiny-llama');
const TEXT = 'And God said, Let there be light';

/** A folder holding tiny-llama's config and tokenizer, and its weights each scaled by 1 + 0.01·sin(i). */
function secondCheckpoint(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ti-second-'));
  for (const f of ['config.json', 'tokenizer.json']) copyFileSync(join(TINY, f), join(dir, f));
  const file = SafetensorsFile.open(join(TINY, 'model.safetensors'));
  const tensors = new Map<string, Tensor>();
  for (const name of file.names()) {
    const t = file.read(name);
    tensors.set(name, new Tensor(t.shape, t.data.map((v, i) => v * (1 + 0.01 * Math.sin(i)))));
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

/** tiny-llama's config with one edit, without weights (seeded): same vocabulary, other hooks or shapes. */
function edited(edit: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ti-other-'));
  const config = { ...JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')), ...edit };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function session(): Session {
  const s = new Session();
  s.load(join(TINY, 'config.json'), { text: TEXT }, 'auto', NO_CONTROL);
  return s;
}

const compareModel = (s: Session, choice: { path: string } | { quantized: true }, hook: string) =>
  s.handle({ kind: 'compareModel', with: choice, hook }, NO_CONTROL).reply as Comparison;

test('two checkpoints at a hook: A, B and B − A are the two runs’ tensors and their difference', () => {
  const dir = secondCheckpoint();
  const s = session();
  const hook = 'blocks.1.hook_resid_post';
  const c = compareModel(s, { path: dir }, hook);
  const ids = s.tokenize(TEXT).ids;
  const ta = runTrace(loadModel(join(TINY, 'config.json')).model.forward({ ids: [ids] })).steps.find((x) => x.name === hook)!.tensor;
  const tb = runTrace(loadModel(dir).model.forward({ ids: [ids] })).steps.find((x) => x.name === hook)!.tensor;
  assert.ok(c.a.kind === 'matrix' && c.b.kind === 'matrix' && c.diff?.kind === 'matrix');
  assert.equal(c.a.rows * c.a.cols, ta.size, 'the whole [1, T, 128] tensor is shown');
  let max = 0;
  for (let i = 0; i < ta.size; i++) {
    assert.equal(c.a.data[i], ta.data[i]);
    assert.equal(c.b.data[i], tb.data[i]);
    assert.equal(c.diff.data[i], Math.fround(tb.data[i] - ta.data[i]));
    max = Math.max(max, Math.abs(tb.data[i] - ta.data[i]));
  }
  assert.ok(max > 1e-4, 'the perturbed weights change the residual');
  assert.ok(Math.abs(c.maxAbs! - max) <= 1e-6 * max);
  assert.deepEqual(c.models, { a: join(TINY, 'config.json'), b: join(dir, 'config.json') });
  assert.deepEqual(c.unmatched, []);
  assert.ok(c.topChanges.length > 0 && c.topChanges.some((x) => x.delta !== 0));
  // Stepping both together: another hook reuses both passes; the attention side is a pattern too.
  const p = compareModel(s, { path: dir }, 'blocks.0.attn.hook_pattern');
  assert.equal(p.b.kind, 'attention');
  assert.equal(p.hook, 'blocks.0.attn.hook_pattern');
  const embed = p.hooks.find((x) => x.hook === 'hook_embed');
  assert.ok(embed && embed.maxAbs > 0, 'the embeddings were perturbed too');
});

test('the quantized copy made by the Quantization tab: its comparison is the quantized step beside the float one', () => {
  const s = session();
  assert.throws(() => compareModel(s, { quantized: true }, 'logits'), /no quantized copy: run Quantize Model/);
  s.handle({ kind: 'quantize', spec: { method: 'rtn', bits: 4, group: 32, calibration: { kind: 'input' } } }, NO_CONTROL);
  const hook = 'blocks.2.hook_resid_post';
  s.move({ to: 'hook', name: hook }, NO_CONTROL);
  const q = (s.handle({ kind: 'quantStep' }, NO_CONTROL).reply as QuantStepReply).step;
  const c = compareModel(s, { quantized: true }, hook);
  assert.ok(c.diff?.kind === 'matrix' && q.diff.kind === 'matrix');
  assert.deepEqual(c.diff.data, q.diff.data);
  assert.ok(c.maxAbs! > 0);
  assert.match(c.models!.b, /^quantized copy \(rtn, 4 bits, groups of 32\)$/);
});

test('models whose hooks or shapes differ are refused, naming both', () => {
  const s = session();
  const fewer = edited({ num_hidden_layers: 2 });
  assert.throws(
    () => compareModel(s, { path: fewer }, 'logits'),
    (e: Error) =>
      e.message.includes(join(TINY, 'config.json')) && e.message.includes(join(fewer, 'config.json')) && /hooks differ — blocks\.2\.\S+ only in/.test(e.message),
  );
  const wider = edited({ intermediate_size: 256 });
  assert.throws(() => compareModel(s, { path: wider }, 'logits'), /blocks\.0\.mlp\.hook_pre is \[1, \d+, 352\] in .* but \[1, \d+, 256\] in /);
  const vocab = edited({ vocab_size: 500 });
  assert.throws(() => compareModel(s, { path: vocab }, 'logits'), /vocabularies differ \(768 and 500 tokens\)/);
  assert.throws(() => compareModel(s, { path: TINY }, 'logits'), /the model already loaded/);
  // The session still compares after a refusal.
  assert.equal(compareModel(s, { path: secondCheckpoint() }, 'logits').hook, 'logits');
});

test('the second model loads only into the memory left (engine/model/fits.ts)', () => {
  const first = loadModel(join(TINY, 'config.json'));
  assert.throws(() => chooseComparer(undefined, first, { path: secondCheckpoint() }, undefined, { availableBytes: 1e6 }), /too large to run here/);
});

test('both passes must fit the activation budget beside the stepper’s', () => {
  const s = new Session({ memoryBudget: 1e6 });
  s.load(join(TINY, 'config.json'), { ids: [1, 2, 3, 4, 5, 6, 7, 8] }, 'auto', NO_CONTROL);
  assert.throws(() => compareModel(s, { path: secondCheckpoint() }, 'logits'), /keeps both passes over these 8 tokens .* past the engine's 977 KB activation budget/);
  s.handle({ kind: 'setInput', input: { ids: [1, 2] } }, NO_CONTROL);
  assert.equal(compareModel(s, { path: secondCheckpoint() }, 'logits').hook, 'logits');
});

test('a quantized checkpoint folder (quantize --out) is another model to compare with: same hooks, embeddings untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ti-rtn-'));
  const float = loadModel(join(TINY, 'config.json'));
  const ids = float.tokenizer!.encode(TEXT).ids;
  const quantized = quantizeModel(float.model, { ids: [ids] }, { method: 'rtn', bits: 4, group: 32 });
  writeQuantizedCheckpoint(dir, float, quantized);
  quantized.restore(); // quantizing left the 4-bit weights in place: the float model again
  const s = session();
  const c = compareModel(s, { path: dir }, 'logits');
  assert.equal(c.models!.b, join(dir, 'config.json'));
  assert.equal(c.hooks.find((x) => x.hook === 'hook_embed')!.maxAbs, 0, 'the embeddings are not quantized');
  const resid = c.hooks.find((x) => x.hook === 'blocks.2.hook_resid_post')!;
  assert.ok(resid.relative > 1e-4 && resid.relative < 0.5, `4-bit weights move the residual a little (${resid.relative})`);
  // The same numbers as the two runs of the two models.
  const q = runTrace(loadModel(dir).model.forward({ ids: [ids] })).result;
  const f = runTrace(float.model.forward({ ids: [ids] })).result;
  let max = 0;
  for (let i = 0; i < q.size; i++) max = Math.max(max, Math.abs(q.data[i] - f.data[i]));
  assert.equal(c.maxAbs, max);
});

test('an encoder-decoder model is refused (as Compare With… another input refuses it)', () => {
  const s = new Session();
  const config = resolve('examples/translation/translation.transformer.json');
  s.load(config, undefined, 'auto', NO_CONTROL);
  assert.throws(() => compareModel(s, { path: config }, 'logits'), /runs single-stack models/);
});
