/**
 * Traces recorded elsewhere (tools/capture on the golden Hugging Face fixtures, with the real transformers
 * classes, also under accelerate's disk offload; converted TransformerLens and nnsight saves) open in the
 * engine, and every recorded tensor equals the engine's own run of the same checkpoint at 1e-5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { TraceFile, isTracePath } from '../../engine/tracefile/reader';
import { runForward } from '../../engine/cli/forward';
import { runTrace as runTraceCli } from '../../engine/cli/trace';
import { assertClose } from '../helpers/close';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const TRACES = path.join(FIXTURES, 'traces');

/** Open a trace, run the engine on the model it names with the trace's input, compare every hook. */
function compareWithEngine(trace: string, modelDir: string): { trace: TraceFile; engineSteps: string[] } {
  const t = TraceFile.open(trace);
  const { model } = loadModel(modelDir);
  const { steps } = runTrace(model.forward({ ids: t.manifest.input.ids }));
  const got = new Map(steps.map((s) => [s.name, s.tensor]));
  for (const name of t.hooks) {
    const want = got.get(name);
    assert.ok(want, `${trace}: the engine records no '${name}'`);
    const have = t.read(name);
    assert.deepEqual([...have.shape], [...want.shape], `${name} shape`);
    assertClose(have.data, want.data, 1e-5, `${path.basename(trace)}: ${name}`);
  }
  return { trace: t, engineSteps: steps.map((s) => s.name) };
}

for (const family of ['gpt2', 'llama', 'mistral', 'qwen2', 'gemma']) {
  test(`${family}: capture_hf.py's trace (transformers, eager attention) equals the engine's run`, () => {
    const { trace, engineSteps } = compareWithEngine(path.join(TRACES, `${family}.trace.safetensors`), path.join(FIXTURES, 'hf', family));
    assert.match(trace.manifest.writer.tool, /capture_hf\.py/);
    assert.match(trace.manifest.writer.library ?? '', /transformers \d/);
    assert.equal(trace.manifest.config.model_type, family);
    // Everything the engine computes is recorded except the pre-softmax scores (HF's eager attention
    // does not expose them); rotated q/k are there for the rotary families.
    const missing = engineSteps.filter((n) => !trace.has(n));
    assert.deepEqual(missing.map((n) => n.replace(/^blocks\.\d+\./, '')), ['attn.hook_attn_scores', 'attn.hook_attn_scores']);
    assert.equal(trace.hooks.at(-1), 'logits');
  });
}

test('llama under accelerate (device_map="auto", max_memory forcing disk offload): a folder of per-layer shards', () => {
  const folder = path.join(TRACES, 'llama_offload.trace');
  assert.ok(isTracePath(folder));
  const { trace } = compareWithEngine(folder, path.join(FIXTURES, 'hf', 'llama'));
  assert.match(trace.manifest.writer.library ?? '', /accelerate .*device_map=auto/);
  assert.equal(fs.readdirSync(folder).length, 4, 'embeddings, two layers, the head');
  // Same tensors as the single-file capture without accelerate.
  const single = TraceFile.open(path.join(TRACES, 'llama.trace.safetensors'));
  assert.deepEqual([...trace.hooks], [...single.hooks]);
  for (const h of single.hooks) assert.deepEqual(trace.read(h).data, single.read(h).data, h);
});

test('a TransformerLens ActivationCache (saved dict of tensors) converts to a trace that equals the engine', () => {
  const { trace } = compareWithEngine(path.join(TRACES, 'gpt2_from_transformerlens.trace.safetensors'), path.join(FIXTURES, 'hf', 'gpt2'));
  assert.match(trace.manifest.writer.tool, /convert_transformerlens/);
  assert.ok(trace.hooks.includes('blocks.1.attn.hook_pattern'));
  assert.ok(!trace.hooks.some((h) => h.endsWith('hook_scale')), 'TransformerLens-only hooks are left out');
});

test('an nnsight save (module path + .input/.output) converts to a trace that equals the engine', () => {
  const { trace } = compareWithEngine(path.join(TRACES, 'llama_from_nnsight.trace.safetensors'), path.join(FIXTURES, 'hf', 'llama'));
  assert.match(trace.manifest.writer.tool, /convert_nnsight/);
  for (const h of ['hook_embed', 'blocks.0.hook_resid_pre', 'blocks.1.attn.hook_z', 'blocks.1.mlp.hook_post', 'logits']) assert.ok(trace.has(h), h);
});

test('forward --dump writes a trace that opens and holds exactly the run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dump-'));
  try {
    const out = path.join(dir, 'run.trace.safetensors');
    const lines: string[] = [];
    assert.equal(runForward([path.join(FIXTURES, 'hf', 'llama'), '--text', 'The cat', '--dump', out], (s) => lines.push(s)), 0);
    const t = TraceFile.open(out);
    assert.equal(t.manifest.writer.tool, 'transformer-inspector forward');
    assert.equal(t.manifest.config.model_type, 'llama');
    assert.ok(t.manifest.input.tokens && t.manifest.input.tokens[0].length === t.manifest.input.ids[0].length);
    const { model } = loadModel(path.join(FIXTURES, 'hf', 'llama'));
    const { steps } = runTrace(model.forward({ ids: t.manifest.input.ids }));
    assert.deepEqual([...t.hooks], steps.map((s) => s.name));
    for (const s of steps) assert.deepEqual(t.read(s.name).data, s.tensor.data, s.name);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('trace A B compares a local engine run with a transformers capture, hook by hook', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-'));
  try {
    const local = path.join(dir, 'local.trace.safetensors');
    const ids = TraceFile.open(path.join(TRACES, 'gpt2.trace.safetensors')).manifest.input.ids[0].join(',');
    runForward([path.join(FIXTURES, 'hf', 'gpt2'), '--ids', ids, '--dump', local], () => {});
    const lines: string[] = [];
    assert.equal(runTraceCli([local, path.join(TRACES, 'gpt2.trace.safetensors')], (s) => lines.push(s)), 0);
    assert.ok(lines.some((l) => /blocks\.0\.attn\.hook_attn_scores .* only in first/.test(l)));
    assert.match(lines.at(-1) ?? '', /every hook both traces hold agrees within 0\.00001/);
    const strict: string[] = [];
    assert.equal(runTraceCli([local, path.join(TRACES, 'gpt2.trace.safetensors'), '--rtol', '0'], (s) => strict.push(s)), 1, 'float rounding differs at rtol 0');
    assert.match(strict.at(-1) ?? '', /hooks differ by more than 0/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("capture_hf.py's options: chosen hooks of one layer, three positions, stored as BF16", () => {
  const t = TraceFile.open(path.join(TRACES, 'llama_subset.trace.safetensors'));
  assert.deepEqual([...t.hooks], ['blocks.1.attn.hook_pattern', 'blocks.1.hook_resid_post', 'logits']);
  assert.equal(t.manifest.dtype, 'BF16');
  assert.deepEqual(t.manifest.positions, [0, 3, 6]);
  const { model } = loadModel(path.join(FIXTURES, 'hf', 'llama'));
  const { steps } = runTrace(model.forward({ ids: t.manifest.input.ids }));
  for (const name of t.hooks) {
    const step = steps.find((s) => s.name === name)!;
    // Keep positions 0, 3, 6 along pos / query_pos (axis 1, or 2 for a pattern); key_pos stays whole.
    const axis = step.dims.indexOf('query_pos') >= 0 ? step.dims.indexOf('query_pos') : step.dims.indexOf('pos');
    const shape = [...step.tensor.shape];
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const kept: number[] = [];
    for (let o = 0; o < outer; o++) for (const p of t.manifest.positions!) for (let i = 0; i < inner; i++) kept.push(step.tensor.data[(o * shape[axis] + p) * inner + i]);
    const have = t.read(name);
    shape[axis] = 3;
    assert.deepEqual([...have.shape], shape, name);
    assertClose(have.data, kept, 4e-3, `${name} (bf16)`);
  }
});
