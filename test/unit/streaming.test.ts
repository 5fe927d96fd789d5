/**
 * Layer streaming: a GPT-2-shaped checkpoint (generated here, random weights) run with a memory budget
 * smaller than its weights gives bit-identical steps and logits to the in-memory run, and its peak RSS
 * (process.memoryUsage, in a fresh process per run) stays under the budget plus the activations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tensor } from '../../engine/tensor';
import { writeSafetensors } from '../../engine/io/safetensors';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import type { ModelInput } from '../../engine/model/transformer';
import { groupOf, parseSize, StreamedTensor } from '../../engine/model/streaming';
import { fillUniform } from '../../engine/model/rng';
import { NO_CONTROL, Session } from '../../engine/worker/session';
import { InspectorError } from '../../engine/errors';
import type { Loaded, Moved } from '../../protocol/worker';

const D = 384;
const LAYERS = 8;
const VOCAB = 4096;
const CTX = 64;

/** A GPT2LMHeadModel checkpoint of these sizes, in the layout of the official file (Conv1D [in, out]). */
function writeGpt2(dir: string): number {
  const config = { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: D, n_layer: LAYERS, n_head: 6, n_positions: CTX, vocab_size: VOCAB, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5 };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const tensors = new Map<string, Tensor>();
  let seed = 1;
  const rand = (shape: number[], bound: number) => {
    const t = new Tensor(shape);
    fillUniform(t.data, bound, seed++);
    return t;
  };
  tensors.set('wte.weight', rand([VOCAB, D], 0.5));
  tensors.set('wpe.weight', rand([CTX, D], 0.1));
  for (let i = 0; i < LAYERS; i++) {
    const p = `h.${i}.`;
    tensors.set(`${p}ln_1.weight`, rand([D], 1));
    tensors.set(`${p}ln_1.bias`, rand([D], 0.1));
    tensors.set(`${p}attn.c_attn.weight`, rand([D, 3 * D], 1 / Math.sqrt(D)));
    tensors.set(`${p}attn.c_attn.bias`, rand([3 * D], 0.1));
    tensors.set(`${p}attn.c_proj.weight`, rand([D, D], 1 / Math.sqrt(D)));
    tensors.set(`${p}attn.c_proj.bias`, rand([D], 0.1));
    tensors.set(`${p}ln_2.weight`, rand([D], 1));
    tensors.set(`${p}ln_2.bias`, rand([D], 0.1));
    tensors.set(`${p}mlp.c_fc.weight`, rand([D, 4 * D], 1 / Math.sqrt(D)));
    tensors.set(`${p}mlp.c_fc.bias`, rand([4 * D], 0.1));
    tensors.set(`${p}mlp.c_proj.weight`, rand([4 * D, D], 1 / Math.sqrt(4 * D)));
    tensors.set(`${p}mlp.c_proj.bias`, rand([D], 0.1));
  }
  tensors.set('ln_f.weight', rand([D], 1));
  tensors.set('ln_f.bias', rand([D], 0.1));
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  let bytes = 0;
  for (const t of tensors.values()) bytes += t.size * 4;
  return bytes;
}

interface RunReport {
  peakRss: number;
  peakArrayBuffers: number;
  activations: number;
  hash: string;
  steps: number;
  streamed: { peakBytes: number; reads: number; weightBytes: number } | null;
}

function runChild(dir: string, budget: number | 'none'): RunReport {
  const helper = path.resolve(__dirname, '..', 'helpers', 'stream-run.ts');
  // The streaming source's own bound, measured with the TypeScript kernels: the WebAssembly kernels copy
  // each streamed matrix into their memory for the call (up to twice the largest matrix on top; see
  // docs/performance.md), which this test does not count.
  const env = { ...process.env, TRANSFORMER_INSPECTOR_NO_WASM: '1' };
  const out = execFileSync(process.execPath, ['--import', 'tsx', helper, dir, String(budget), '5,77,13,99,1024,7,3,2048'], { encoding: 'utf8', env });
  return JSON.parse(out) as RunReport;
}

test('a model over its memory budget runs layer by layer: bit-identical, peak RSS under budget + activations', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-'));
  try {
    const weightBytes = writeGpt2(dir);
    const budget = 40e6; // two layers (a GPT-2 layer holds its Conv1D weights, their transposes and the q/k/v slices)
    assert.ok(weightBytes > 1.5 * budget, `weights ${weightBytes} must exceed the budget`);
    const streamed = runChild(dir, budget);
    const whole = runChild(dir, 'none');
    assert.equal(whole.streamed, null, 'without a budget the model is held whole');
    assert.ok(streamed.streamed, 'with the budget the weights are streamed');
    assert.equal(streamed.steps, whole.steps);
    assert.equal(streamed.hash, whole.hash, 'every step and the logits are bit-identical');
    assert.equal(streamed.streamed.reads, 2 + LAYERS + 2, 'wte, wpe, each layer once, ln_f, wte again for the tied head');
    assert.ok(streamed.streamed.peakBytes <= budget, `held ${streamed.streamed.peakBytes} bytes of weights, budget ${budget}`);
    // Typed-array memory (weights, activations, and the temporaries and released buffers that wait for V8's
    // next collection) is bounded more tightly than RSS, which adds V8's heap, code and the allocator's slack.
    // The in-memory run shows both bounds are far from loose.
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.log(
      `weights ${mb(weightBytes)}, budget ${mb(budget)}: streamed peak RSS +${mb(streamed.peakRss)} (typed arrays +${mb(streamed.peakArrayBuffers)}, weights held ≤ ${mb(streamed.streamed.peakBytes)}, activations ${mb(streamed.activations)}); in memory +${mb(whole.peakRss)} (typed arrays +${mb(whole.peakArrayBuffers)})`,
    );
    assert.ok(streamed.peakArrayBuffers < budget + streamed.activations + 20e6, `typed arrays +${mb(streamed.peakArrayBuffers)}`);
    const bound = budget + streamed.activations + 30e6;
    assert.ok(streamed.peakRss < bound, `streamed peak RSS +${mb(streamed.peakRss)} ≥ ${mb(bound)}`);
    assert.ok(whole.peakArrayBuffers > budget + streamed.activations + 20e6, 'the in-memory run holds more');
    assert.ok(whole.peakRss > bound, `in-memory peak RSS +${mb(whole.peakRss)} should exceed the streamed bound`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stepping back over a released layer re-reads it with the same values', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-'));
  try {
    writeGpt2(dir);
    const loaded = loadModel(dir, { memoryBudget: 40e6 });
    const source = loaded.streaming!;
    const w = loaded.model.parameters.get('h.0.attn.c_proj.weight') as StreamedTensor;
    assert.ok(w instanceof StreamedTensor && !w.resident, 'nothing is read before it is used');
    const first = runTrace(loaded.model.forward({ ids: [[1, 2, 3]] })).result;
    assert.ok(!w.resident, 'layer 0 was released for the later layers');
    const reads = source.reads;
    const again = runTrace(loaded.model.forward({ ids: [[1, 2, 3]] })).result;
    assert.ok(source.reads > reads, 'the second pass read the layers again');
    assert.deepEqual(again.data, first.data);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('layer groups and budget sizes', () => {
  assert.equal(groupOf('model.layers.3.mlp.experts.7.up_proj.weight'), 'model.layers.3');
  assert.equal(groupOf('h.11.attn.c_attn.weight'), 'h.11');
  assert.equal(groupOf('model.embed_tokens.weight'), 'model.embed_tokens');
  assert.equal(groupOf('lm_head.weight'), 'lm_head');
  assert.equal(parseSize('150MB'), 150e6);
  assert.equal(parseSize('4GiB'), 4 * 1024 ** 3);
  assert.throws(() => parseSize('lots'), /not a size/);
  assert.throws(() => parseSize('0MB'), /more than 0/);
});

test('every Hugging Face fixture family (F32, F16, BF16) streamed under a tiny budget equals its in-memory run bit for bit', () => {
  const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');
  for (const name of fs.readdirSync(HF).sort()) {
    const dir = path.join(HF, name);
    if (!fs.statSync(dir).isDirectory()) continue; // the fixtures' README
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8')) as { input_ids: number[][]; token_type_ids?: number[][]; attention_mask?: number[][]; decoder_input_ids?: number[][] };
    const input = { ids: raw.input_ids, tokenTypeIds: raw.token_type_ids, attentionMask: raw.attention_mask, decoderIds: raw.decoder_input_ids };
    const whole = runTrace(loadModel(dir).model.forward(input));
    // A budget below any layer: every group is released as soon as the rule (keep this one and the last) allows.
    const loaded = loadModel(dir, { memoryBudget: 1 });
    assert.ok(loaded.streaming, name);
    const streamed = runTrace(loaded.model.forward(input));
    assert.deepEqual(streamed.steps.map((s) => s.name), whole.steps.map((s) => s.name), name);
    streamed.steps.forEach((s, i) => assert.deepEqual(s.tensor.data, whole.steps[i].tensor.data, `${name}: ${s.name}`));
    assert.deepEqual(streamed.result.data, whole.result.data, `${name}: logits`);
    assert.equal(loaded.model.parameterCount(), loadModel(dir).model.parameterCount(), `${name}: parameter count without reading`);
  }
});

test('the inspector session streams weights over its budget and steps through the same tensors', () => {
  const dir = path.resolve(__dirname, '..', 'fixtures', 'hf', 'llama');
  const whole = new Session().load(dir, { ids: [1, 2, 3] }, 'auto', NO_CONTROL) as Loaded;
  const s = new Session({ weightBudget: 1 });
  const streamed = s.load(dir, { ids: [1, 2, 3] }, 'auto', NO_CONTROL) as Loaded;
  assert.match(streamed.model.weights, /streamed layer by layer/);
  assert.deepEqual(streamed.steps, whole.steps);
  assert.equal(streamed.model.parameterCount, whole.model.parameterCount);
  const a = new Session();
  a.load(dir, { ids: [1, 2, 3] }, 'auto', NO_CONTROL);
  for (const hook of ['blocks.1.attn.hook_pattern', 'logits']) {
    const x = s.move({ to: 'hook', name: hook }, NO_CONTROL) as Moved;
    const y = a.move({ to: 'hook', name: hook }, NO_CONTROL) as Moved;
    assert.deepEqual(x.position, y.position, hook);
  }
});

test('a weights file that shrinks or disappears under a streamed model is a named error when its layer is read', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-'));
  try {
    for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.resolve(__dirname, '..', 'fixtures', 'hf', 'llama', f), path.join(dir, f));
    const weights = path.join(dir, 'model.safetensors');
    const loaded = loadModel(dir, { memoryBudget: 1 });
    fs.truncateSync(weights, fs.statSync(weights).size - 64);
    const named = (re: RegExp) => (e: unknown) => e instanceof InspectorError && re.test(e.message) && e.place.file === weights;
    assert.throws(() => runTrace(loaded.model.forward({ ids: [[1, 2]] })), named(/file ended after .* bytes of this tensor/));
    fs.rmSync(weights);
    assert.throws(() => runTrace(loaded.model.forward({ ids: [[1, 2]] })), named(/cannot read this layer's weights again/));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('native models (the examples) streamed under a tiny budget equal their in-memory runs bit for bit', () => {
  const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples');
  const cases: [string, ModelInput][] = [
    ['tutorial', { ids: [[5, 7, 11, 13]] }],
    ['tiny-llama', { ids: [[5, 7, 11, 13]] }],
    ['translation', { ids: [[5, 7, 11]], decoderIds: [[1, 2]] }],
  ];
  for (const [name, input] of cases) {
    const whole = runTrace(loadModel(path.join(EXAMPLES, name)).model.forward(input));
    const loaded = loadModel(path.join(EXAMPLES, name), { memoryBudget: 1 });
    assert.ok(loaded.streaming, name);
    const streamed = runTrace(loaded.model.forward(input));
    streamed.steps.forEach((s, i) => assert.deepEqual(s.tensor.data, whole.steps[i].tensor.data, `${name}: ${s.name}`));
  }
});
