/** The inspector's session opens a trace: the stepper walks the recorded hooks, absent hooks are absent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tensor } from '../../engine/tensor';
import { writeTrace } from '../../engine/tracefile/writer';
import { RecordedTensor, replayTrace } from '../../engine/tracefile/replay';
import { runTrace } from '../../engine/trace/step';
import { Session, NO_CONTROL } from '../../engine/worker/session';
import type { Loaded, Moved } from '../../protocol/worker';
import { InspectorError } from '../../engine/errors';
import { TraceFile } from '../../engine/tracefile/reader';

const TRACES = path.resolve(__dirname, '..', 'fixtures', 'traces');

test('a captured trace opens: its steps are the recorded hooks, with the recorded tensors', () => {
  const file = path.join(TRACES, 'llama_from_nnsight.trace.safetensors');
  const s = new Session();
  const r = s.load(file, undefined, 'auto', NO_CONTROL) as Loaded;
  const trace = TraceFile.open(file);
  assert.deepEqual(r.steps.map((x) => x.name), [...trace.hooks]);
  assert.match(r.model.weights, /trace recorded by tools\/capture\/convert_nnsight\.py .*33 hooks \(F32\), 6 not recorded/);
  assert.equal(r.model.family, 'llama');
  assert.deepEqual(r.model.ids, trace.manifest.input.ids[0]);
  assert.ok(r.tree.children.length > 0, 'the module tree comes from the trace config');
  const m = s.move({ to: 'hook', name: 'blocks.1.attn.hook_pattern' }, NO_CONTROL) as Moved;
  assert.equal(m.position.kind, 'step');
  if (m.position.kind === 'step') {
    assert.equal(m.position.step.name, 'blocks.1.attn.hook_pattern');
    assert.equal(m.position.step.view.kind, 'attention');
    assert.deepEqual(m.position.step.shape, [...trace.read('blocks.1.attn.hook_pattern').shape]);
  }
  const params = s.params();
  assert.ok(params, 'the parameter breakdown comes from the trace config');
});

test('hooks the trace did not record are absent, not computed; the input is fixed', () => {
  const file = path.join(TRACES, 'llama_from_nnsight.trace.safetensors');
  const s = new Session();
  s.load(file, undefined, 'auto', NO_CONTROL);
  assert.throws(
    () => s.move({ to: 'hook', name: 'blocks.0.attn.hook_rot_q' }, NO_CONTROL),
    (e: unknown) => e instanceof InspectorError && /not recorded in this trace: it is absent/.test(e.message) && e.place.tensor === 'blocks.0.attn.hook_rot_q',
  );
  assert.throws(() => s.setInput({ ids: [1, 2] }, NO_CONTROL), /input was fixed when it was recorded/);
});

test('a trace folder opens the same way, shard by shard', () => {
  const s = new Session();
  const r = s.load(path.join(TRACES, 'llama_offload.trace'), undefined, 'auto', NO_CONTROL) as Loaded;
  assert.equal(r.steps[0].name, 'hook_embed');
  assert.equal(r.steps.at(-1)?.name, 'logits');
  assert.match(r.model.weights, /accelerate/);
  const end = s.move({ to: 'end' }, NO_CONTROL) as Moved;
  assert.equal(end.position.kind === 'step' && end.position.step.name, 'logits');
});

test('a trace whose hooks its config cannot produce is refused with the hook named', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-session-'));
  try {
    const file = path.join(dir, 'x.trace.safetensors');
    const config = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'fixtures', 'hf', 'gpt2', 'config.json'), 'utf8')) as Record<string, unknown>;
    writeTrace(file, { writer: { tool: 'test' }, configFormat: 'hf', config, input: { ids: [[1, 2]] }, tensors: new Map([['blocks.7.hook_resid_post', new Tensor([1, 2, 32])]]) });
    assert.throws(
      () => new Session().load(file, undefined, 'auto', NO_CONTROL),
      (e: unknown) => e instanceof InspectorError && /does not compute/.test(e.message) && e.place.tensor === 'blocks.7.hook_resid_post',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a replayed trace knows every step from its headers and reads only the tensors looked at, within a cache budget', () => {
  const trace = TraceFile.open(path.join(TRACES, 'llama.trace.safetensors'));
  const { steps } = runTrace(replayTrace(trace, 4000));
  assert.deepEqual(steps.map((s) => s.name), [...trace.hooks]);
  const tensors = steps.map((s) => s.tensor as RecordedTensor);
  assert.ok(tensors.every((t) => t instanceof RecordedTensor && !t.resident), 'nothing read yet');
  assert.deepEqual(steps[5].tensor.data, trace.read(steps[5].name).data);
  assert.deepEqual(tensors.map((t) => t.resident).filter(Boolean).length, 1, 'one tensor read');
  for (const s of steps) void s.tensor.data;
  const heldBytes = tensors.filter((t) => t.resident).reduce((n, t) => n + t.size * 4, 0);
  assert.ok(heldBytes <= 4000 || tensors.filter((t) => t.resident).length === 1, `held ${heldBytes} bytes`);
  assert.deepEqual(steps[0].tensor.data, trace.read(steps[0].name).data, 'a dropped tensor is read again');
});

test('a trace that kept some positions labels them with their own tokens', () => {
  const s = new Session();
  s.load(path.join(TRACES, 'llama_subset.trace.safetensors'), undefined, 'auto', NO_CONTROL);
  const m = s.move({ to: 'hook', name: 'blocks.1.attn.hook_pattern' }, NO_CONTROL) as Moved;
  assert.ok(m.position.kind === 'step');
  if (m.position.kind !== 'step') return;
  assert.deepEqual(m.position.step.shape, [1, 4, 3, 7]);
  assert.equal(m.position.step.view.kind, 'attention');
  const view = m.position.step.view;
  assert.ok(view.kind === 'attention');
  if (view.kind !== 'attention') return;
  assert.deepEqual(view.queryLabels, ['1', '35', '57'], 'kept positions 0, 3, 6 of ids 1,37,62,35,63,34,57 (no token strings)');
  assert.deepEqual(view.keyLabels, ['1', '37', '62', '35', '63', '34', '57']);
});

test("a trace of a 7B model opens at once: the tree from the config's shapes, nothing allocated or recomputed", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-7b-'));
  try {
    const file = path.join(dir, 'llama7b.trace.safetensors');
    const config = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'examples', 'hf', 'llama-2-7b', 'config.json'), 'utf8')) as Record<string, unknown>;
    const resid = (seed: number) => Tensor.fromArray([1, 2, 4096], Array.from({ length: 8192 }, (_, i) => Math.sin(i * seed)));
    const tensors = new Map([
      ['blocks.0.hook_resid_post', resid(1)],
      ['blocks.31.hook_resid_post', resid(2)],
    ]);
    writeTrace(file, { writer: { tool: 'test' }, configFormat: 'hf', config, input: { ids: [[1, 450]] }, tensors });
    const rss = process.memoryUsage().rss;
    const t0 = Date.now();
    const s = new Session();
    const r = s.load(file, undefined, 'auto', NO_CONTROL) as Loaded;
    assert.ok(Date.now() - t0 < 3000, `opened in ${Date.now() - t0} ms`);
    assert.ok(process.memoryUsage().rss - rss < 300e6, 'no weights were allocated');
    assert.equal(r.model.parameterCount, 6_738_415_616);
    assert.equal(r.tree.parameters, 6_738_415_616);
    assert.deepEqual(r.steps.map((x) => x.name), ['blocks.0.hook_resid_post', 'blocks.31.hook_resid_post']);
    assert.match(r.model.weights, /2 hooks \(F32\), 30 not recorded/, 'layers 1 … 30 lack the hook layers 0 and 31 recorded');
    const m = s.move({ to: 'hook', name: 'blocks.31.hook_resid_post' }, NO_CONTROL) as Moved;
    assert.ok(m.position.kind === 'step' && m.position.step.shape.join() === '1,2,4096');
    assert.throws(() => s.move({ to: 'hook', name: 'blocks.7.hook_resid_post' }, NO_CONTROL), /absent/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
