/**
 * transformers 5 writes the rotary settings as one `rope_parameters: {rope_theta, rope_type, …}` object
 * and no top-level `rope_theta` (LlamaConfig(...).save_pretrained() in 5.18 does; the hf-saved/llama
 * fixture was written that way). The Llama-family reader reads both layouts once (engine/config/hf/rope.ts),
 * and refuses a scaling rope_type by the key it came from, as it refuses rope_scaling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { describeModel } from '../../engine/model/describe';
import { analyzeConfig } from '../../engine/analysis';
import { runTrace } from '../../engine/trace/step';
import { isInspectorError } from '../../engine/errors';
import type { JsonObject } from '../../engine/config/json';
import { resolveLlama } from '../../engine/config/hf/llama';
import { HfConfig } from '../../engine/config/hf/reader';
import { assertClose, relativeError } from '../helpers/close';
import { readExpected } from '../helpers/fixtures';

const SAVED = path.resolve(__dirname, '..', 'fixtures', 'hf-saved', 'llama');
const v5 = JSON.parse(fs.readFileSync(path.join(SAVED, 'config.json'), 'utf8')) as JsonObject;
const input = JSON.parse(fs.readFileSync(path.join(SAVED, 'input.json'), 'utf8')) as { ids: number[][] };
const want = readExpected(path.join(SAVED, 'expected.safetensors')).get('logits')!;

/** The fixture folder with its config.json replaced. */
function withConfig(config: JsonObject): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rope-params-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  fs.symlinkSync(path.join(SAVED, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  return dir;
}

function logits(dir: string): Float32Array {
  const { model } = loadModel(dir);
  return runTrace(model.forward({ ids: input.ids })).result.data;
}

function withoutRope(o: JsonObject): JsonObject {
  const { rope_parameters: _p, rope_theta: _t, rope_scaling: _s, ...rest } = o;
  return rest;
}

test('the fixture is v5-style: rope_parameters holds rope_theta, there is no top-level rope_theta', () => {
  assert.equal(v5.rope_theta, undefined);
  assert.deepEqual(v5.rope_parameters, { rope_theta: 500, rope_type: 'default' });
  const d = describeModel(v5, { native: false });
  assert.ok(d.spec.positional.kind === 'rotary');
  assert.equal(d.spec.positional.theta, 500);
});

test('rope_parameters.rope_theta and a top-level rope_theta give the same logits as PyTorch; the default 10000 does not', () => {
  assertClose(logits(withConfig(v5)), want.data, 1e-5, 'v5 layout');
  const v4 = { ...withoutRope(v5), rope_theta: 500 };
  assertClose(logits(withConfig(v4)), want.data, 1e-5, 'v4 layout');
  const neither = withoutRope(v5);
  assert.ok(relativeError(Array.from(want.data), logits(withConfig(neither))) > 1e-3, 'θ matters here: 10000 gives other logits');
  // Both ways and equal is accepted.
  assertClose(logits(withConfig({ ...v5, rope_theta: 500 })), want.data, 1e-5, 'both layouts, equal');
});

test('a scaling rope_type in rope_parameters is refused by that key when running, still analysed', () => {
  for (const type of ['linear', 'llama3', 'yarn', 'dynamic']) {
    const cfg = { ...v5, rope_parameters: { rope_theta: 500, rope_type: type, factor: 2 } };
    assert.throws(
      () => describeModel(cfg, { native: false }),
      (e: unknown) => isInspectorError(e) && e.place.key === 'rope_parameters' && e.message.includes(`"${type}"`),
    );
    assert.equal(analyzeConfig(cfg).params.total, analyzeConfig(v5).params.total);
  }
  // The old spelling is refused by its own key, as before.
  const old = { ...withoutRope(v5), rope_theta: 500, rope_scaling: { type: 'linear', factor: 2 } };
  assert.throws(() => describeModel(old, { native: false }), (e: unknown) => isInspectorError(e) && e.place.key === 'rope_scaling');
  // rope_scaling {rope_type: "default"} (what some 4.x versions wrote) scales nothing.
  assert.doesNotThrow(() => describeModel({ ...v5, rope_scaling: { rope_type: 'default' } }, { native: false }));
});

test('rope_parameters that disagree with the top-level keys, or are not an object, are named errors', () => {
  const fails = (cfg: JsonObject, key: string) =>
    assert.throws(() => describeModel(cfg, { native: false }), (e: unknown) => isInspectorError(e) && e.place.key === key, key);
  fails({ ...v5, rope_theta: 10000 }, 'rope_parameters.rope_theta');
  fails({ ...v5, rope_parameters: 'default' }, 'rope_parameters');
  fails({ ...v5, rope_parameters: { rope_theta: 'big', rope_type: 'default' } }, 'rope_parameters.rope_theta');
  fails({ ...v5, rope_parameters: { rope_theta: 500, rope_type: 3 } }, 'rope_parameters.rope_type');
  fails({ ...v5, rope_parameters: { rope_theta: 500, rope_type: 'linear' }, rope_scaling: { type: 'yarn' } }, 'rope_parameters');
});

test('Phi-3 in transformers 5 keeps partial_rotary_factor inside rope_parameters', () => {
  const phi3 = { model_type: 'phi3', hidden_size: 64, num_attention_heads: 4, rope_parameters: { rope_theta: 10000, rope_type: 'default', partial_rotary_factor: 0.5 } };
  const cfg = resolveLlama(new HfConfig(phi3), 'phi3');
  assert.equal(cfg.rope.partialFactor, 0.5);
  assert.equal(cfg.rope.theta, 10000);
  assert.equal(resolveLlama(new HfConfig({ ...phi3, partial_rotary_factor: 0.5 }), 'phi3').rope.partialFactor, 0.5);
  assert.throws(() => resolveLlama(new HfConfig({ ...phi3, partial_rotary_factor: 0.25 }), 'phi3'), (e: unknown) => isInspectorError(e) && e.place.key === 'rope_parameters.partial_rotary_factor');
  assert.throws(() => resolveLlama(new HfConfig({ ...phi3, rope_parameters: { partial_rotary_factor: 0 } }), 'phi3'), (e: unknown) => isInspectorError(e) && e.place.key === 'rope_parameters.partial_rotary_factor');
});

test('DeepSeek-V2 in transformers 5 writes rope_parameters too: read by the same reader, same logits as PyTorch', () => {
  const dir = path.resolve(__dirname, '..', 'fixtures', 'hf', 'deepseek_v2');
  const v4cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as JsonObject;
  assert.equal(v4cfg.rope_theta, 2000, 'the fixture sets θ = 2000 the transformers 4 way');
  const raw = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8')) as { input_ids: number[][] };
  const expected = readExpected(path.join(dir, 'expected.safetensors')).get('logits')!;
  const v5cfg = { ...withoutRope(v4cfg), rope_parameters: { rope_theta: 2000, rope_type: 'default' } };
  const run = (config: JsonObject) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rope-ds-'));
    fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(config));
    fs.symlinkSync(path.join(dir, 'model.safetensors'), path.join(tmp, 'model.safetensors'));
    return runTrace(loadModel(tmp).model.forward({ ids: raw.input_ids })).result.data;
  };
  assertClose(run(v5cfg), expected.data, 1e-5, 'v5 layout');
  assert.ok(relativeError(Array.from(expected.data), run(withoutRope(v4cfg))) > 1e-4, 'θ matters here');
  const yarn = { ...v5cfg, rope_parameters: { rope_theta: 2000, rope_type: 'yarn', factor: 4 } };
  assert.throws(() => describeModel(yarn, { native: false }), (e: unknown) => isInspectorError(e) && e.place.key === 'rope_parameters' && /"yarn"/.test(e.message));
  assert.ok(analyzeConfig(yarn).params.total > 0n, 'still analysed');
});
