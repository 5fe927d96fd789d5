import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runQuantize, calibrationWindows } from '../../engine/cli/quantize';
import { loadModel } from '../../engine/model/load';
import { quantizeModel, checkOptions, MAX_HESSIAN_WIDTH } from '../../engine/quant/quantize-model';
import { findLinears } from '../../engine/quant/linears';
import { InspectorError } from '../../engine/errors';
import { runTrace } from '../../engine/trace/step';
import { compareHooks } from '../../engine/quant/compare-trace';

const LLAMA = path.resolve(__dirname, '..', 'fixtures', 'hf', 'llama');
const CALIB = '5,7,9,11,13,15,17,19;20,22,24,26,28,30,32,34';

function run(args: string[]): string {
  const lines: string[] = [];
  assert.equal(runQuantize(args, (s) => lines.push(s)), 0);
  return lines.join('\n');
}

test('quantize --json: every linear layer with its errors, and the end-to-end figures', () => {
  const r = JSON.parse(run([LLAMA, '--method', 'gptq', '--bits', '4', '--group', '16', '--calib-ids', CALIB, '--eval-ids', '1,37,62,35,63,34,57', '--json'])) as Record<string, unknown> & { layers: Record<string, unknown>[] };
  assert.equal(r.layers.length, 2 * 7, 'q, k, v, o, gate, up, down in each of 2 layers');
  assert.deepEqual(r.layers.slice(0, 7).map((l) => String(l.name).split('.').pop()), ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
  for (const l of r.layers) {
    assert.ok((l.weight_rel_error as number) > 0 && (l.weight_rel_error as number) < 0.5);
    assert.ok((l.output_rel_error as number) > 0 && (l.output_rel_error as number) < 0.5);
  }
  assert.equal(r.calib_tokens, 16);
  assert.equal(r.eval_tokens, 6);
  for (const k of ['perplexity_fp', 'perplexity_q', 'kl_mean', 'top1_agreement', 'weights_bytes', 'weights_bytes_fp']) assert.equal(typeof r[k], 'number', k);
  assert.ok((r.kl_mean as number) > 0);
  // 4-bit codes + fp16 scales + 4-bit zeros per group of 16 for the 9216 linear weights; the rest fp32.
  const linearWeights = 2 * (32 * 32 * 2 + 16 * 32 * 2 + 64 * 32 * 3);
  const groups = linearWeights / 16;
  assert.equal(r.weights_bytes, (r.weights_bytes_fp as number) - 4 * linearWeights + linearWeights / 2 + 2 * groups + groups / 2);
});

test('quantize: the table names layers, outlier dimensions (LLM.int8()) and α (AWQ)', () => {
  const int8 = run([LLAMA, '--method', 'llm-int8', '--threshold', '2', '--calib-ids', CALIB]);
  assert.match(int8, /model\.layers\.0\.self_attn\.q_proj .* outlier dims [\d,]+/);
  const awq = run([LLAMA, '--method', 'awq', '--bits', '4', '--group', '16', '--calib-ids', CALIB]);
  assert.match(awq, /model\.layers\.1\.mlp\.down_proj .* α = 0(\.\d+)?/);
  assert.match(awq, /perplexity {2}fp [\d.]+ → quantized [\d.]+/);
});

test('calibration windows: lines joined and cut into equal windows', () => {
  assert.deepEqual(calibrationWindows([[1, 2, 3], [4, 5]], 64), [[1, 2, 3, 4, 5]]);
  const w = calibrationWindows([Array.from({ length: 300 }, (_, i) => i)], 1000);
  assert.deepEqual(w.map((r) => r.length), [128, 128]);
  assert.equal(w[1][0], 128);
});

function rejects(args: string[], pattern: RegExp): void {
  assert.throws(() => runQuantize(args, () => undefined), (e: unknown) => e instanceof InspectorError && pattern.test(e.describe()), args.join(' '));
}

test('quantize: bad input is a named error', () => {
  rejects([LLAMA, '--method', 'rtn', '--bits', '9', '--calib-ids', CALIB], /--bits must be an integer from 2 to 8, got 9/);
  rejects([LLAMA, '--method', 'rtn', '--bits', '1', '--calib-ids', CALIB], /from 2 to 8/);
  rejects([LLAMA, '--method', 'rtn', '--bits', 'four', '--calib-ids', CALIB], /from 2 to 8, got 'four'/);
  rejects([LLAMA, '--method', 'gptq', '--bits', '4', '--group', '24', '--calib-ids', CALIB], /tensor 'model\.layers\.0\.self_attn\.q_proj\.weight': group size 24 does not divide the input width 32/);
  rejects([LLAMA, '--method', 'gptq', '--calib-text', ''], /--calib-text: the text is empty/);
  rejects([LLAMA, '--method', 'gptq', '--calib-text', '  \n \n'], /the text is empty/);
  rejects([LLAMA, '--method', 'hqq'], /unknown --method 'hqq'/);
  rejects([LLAMA, '--method', 'llm-int8', '--bits', '4', '--calib-ids', CALIB], /llm-int8 is 8-bit/);
  rejects([LLAMA, '--method', 'llm-int8', '--threshold=-1', '--calib-ids', CALIB], /threshold must be a number ≥ 0/);
  rejects([LLAMA, '--method', 'rtn', '--calib-file', '/nonexistent/calib.txt'], /cannot read the file/);
  rejects([LLAMA, '--method', 'rtn', '--calib-ids', '5,7', '--calib-text', 'a'], /give one of/);
});

test('quantizeModel checks the grid against every layer before changing any weight, and restore() undoes it', () => {
  const { model } = loadModel(LLAMA);
  const before = new Map([...model.parameters].map(([k, t]) => [k, Float32Array.from(t.data)]));
  assert.throws(() => quantizeModel(model, { ids: [[5, 7, 9]] }, { method: 'rtn', bits: 4, group: 48 }), /does not divide the input width 32/);
  for (const [k, t] of model.parameters) assert.deepEqual(t.data, before.get(k), k);
  const q = quantizeModel(model, { ids: [[5, 7, 9, 11]] }, { method: 'rtn', bits: 3 });
  assert.notDeepEqual(model.parameters.get('model.layers.0.mlp.up_proj.weight')!.data, before.get('model.layers.0.mlp.up_proj.weight'));
  assert.deepEqual(model.parameters.get('model.embed_tokens.weight')!.data, before.get('model.embed_tokens.weight'), 'embeddings stay float');
  assert.deepEqual(model.parameters.get('lm_head.weight')!.data, before.get('lm_head.weight'), 'lm_head stays float');
  q.restore();
  for (const [k, t] of model.parameters) assert.deepEqual(t.data, before.get(k), k);
  assert.equal(findLinears(model).length, 14);
});

test('any family: GPT-2’s transposed/sliced Conv1D linears are found by hook path, quantized and restored', () => {
  const { model } = loadModel(path.resolve(__dirname, '..', 'fixtures', 'hf', 'gpt2'));
  const linears = findLinears(model);
  assert.deepEqual(linears.slice(0, 4).map((l) => l.name), ['blocks.0.attn.q', 'blocks.0.attn.k', 'blocks.0.attn.v', 'blocks.0.attn.out']);
  assert.ok(linears.every((l) => !l.isParameter));
  const before = linears.map((l) => Float32Array.from(l.linear.weight.data));
  const q = quantizeModel(model, { ids: [[5, 7, 9, 11, 13, 15]] }, { method: 'rtn', bits: 4 });
  assert.equal(q.layers.length, linears.length);
  assert.deepEqual(q.unreached, []);
  assert.equal(q.derived.length, linears.length);
  const linearElements = linears.reduce((n, l) => n + l.linear.weight.size, 0);
  const stored = [...q.codes.values()].reduce((n, c) => n + c.rows * c.columns / 2 + 2 * c.rows + c.rows / 2, 0);
  assert.equal(q.weights_bytes, q.weights_bytes_fp - 4 * linearElements + stored);
  q.restore();
  linears.forEach((l, i) => assert.deepEqual(l.linear.weight.data, before[i], l.name));
});

test('quantize --hooks: every hook of the float and the quantized forward, with the error entering at the first quantized layer', () => {
  const r = JSON.parse(run([LLAMA, '--method', 'rtn', '--bits', '3', '--calib-ids', CALIB, '--eval-ids', '1,37,62,35,63,34,57', '--hooks', '--json'])) as { hooks: { name: string; rel_error: number }[] };
  const err = new Map(r.hooks.map((h) => [h.name, h.rel_error]));
  assert.equal(err.get('hook_embed'), 0, 'embeddings stay float');
  assert.equal(err.get('blocks.0.ln1.hook_normalized'), 0, 'before the first linear nothing differs');
  assert.ok(err.get('blocks.0.attn.hook_q')! > 0.01, 'q_proj is the first quantized layer');
  assert.ok(err.get('logits')! > 0);
  assert.equal(r.hooks.at(-1)!.name, 'logits');
});

test('compareHooks leaves the model quantized, and restore()/apply() switch between the two', () => {
  const { model } = loadModel(LLAMA);
  const q = quantizeModel(model, { ids: [[5, 7, 9, 11, 13, 15, 17, 19]] }, { method: 'llm-int8', bits: 8, threshold: 1 });
  const input = { ids: [[1, 37, 62, 35]] };
  const quantizedLogits = runTrace(model.forward(input)).result.data;
  const hooks = compareHooks(model, q, input);
  assert.deepEqual(hooks.at(-1)!.quantized.tensor.data, quantizedLogits);
  assert.deepEqual(runTrace(model.forward(input)).result.data, quantizedLogits);
  q.restore();
  assert.deepEqual(runTrace(model.forward(input)).result.data, hooks.at(-1)!.fp.tensor.data);
  q.apply();
  assert.deepEqual(runTrace(model.forward(input)).result.data, quantizedLogits);
});

test('GPTQ and AWQ refuse, by name, a layer too wide for a K × K matrix; RTN takes it', () => {
  const { model } = loadModel(LLAMA);
  const wide = findLinears(model).map((l) => ({ ...l, linear: { ...l.linear, inFeatures: l.name.endsWith('down_proj') ? MAX_HESSIAN_WIDTH + 1 : l.linear.inFeatures } as typeof l.linear }));
  for (const method of ['gptq', 'awq'] as const) {
    assert.throws(() => checkOptions({ method, bits: 4 }, wide), (e: unknown) => e instanceof InspectorError && /tensor 'model\.layers\.0\.mlp\.down_proj\.weight': .* needs a 8193 × 8193 matrix \(0\.5 GB\)/.test(e.describe()));
  }
  assert.doesNotThrow(() => checkOptions({ method: 'rtn', bits: 4 }, wide.map((l) => ({ ...l, linear: { ...l.linear, inFeatures: 8193 * 4 } as typeof l.linear }))));
});
