/**
 * The session under a trace budget (issue 10): an input whose whole trace exceeds the budget runs,
 * since only the kept residuals plus one layer must fit; every move's reply shows the tensor of the step
 * it names, bitwise the one of an unbounded session, however the user jumps around; an input that does
 * not fit even so is refused with the numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session, NO_CONTROL } from '../../engine/worker/session';
import { estimateTrace, maxTokensForBudget } from '../../engine/worker/budget';
import { nativeSpecFromJson } from '../../engine/config/native';
import type { Moved } from '../../protocol/worker';
import { InspectorError } from '../../engine/errors';
import { loadModel } from '../../engine/model/load';
import { boundedForward } from '../../engine/trace/store';
import { Stepper } from '../../engine/trace/stepper';
import { runForward } from '../../engine/cli/forward';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-trace-budget-'));
const config = {
  architecture: 'decoder',
  vocab_size: 64,
  d_model: 32,
  num_heads: 4,
  d_ff: 64,
  num_layers: 4,
  max_len: 4096,
  positional: 'rope',
} as const;
const cfg = path.join(dir, 'long.transformer.json');
fs.writeFileSync(cfg, JSON.stringify(config));
const spec = nativeSpecFromJson(config);
const T = 384;
const ids = Array.from({ length: T }, (_, i) => (i * 7 + 3) % 64);

function stepOf(m: Moved) {
  assert.equal(m.position.kind, 'step');
  return m.position.kind === 'step' ? m.position.step : undefined!;
}

test('an input whose whole trace is past the budget runs, and every move shows its own tensor bitwise', () => {
  const est = estimateTrace(spec, T);
  // A budget with room for the kept residuals and a layer and a half, far below the whole trace.
  const budget = Math.ceil(est.bytes + est.layerBytes / 2);
  assert.ok(
    est.fullBytes > 2 * budget,
    `the whole trace (${est.fullBytes}) is well past the budget (${budget}): refused before issue 10`,
  );
  const bounded = new Session({ memoryBudget: budget });
  const unbounded = new Session({ memoryBudget: 1e12 });
  for (const s of [bounded, unbounded])
    assert.equal(s.load(cfg, { ids }, 'seeded', NO_CONTROL).kind, 'loaded');
  const end = stepOf(bounded.move({ to: 'end' }, NO_CONTROL));
  stepOf(unbounded.move({ to: 'end' }, NO_CONTROL));
  const total = end.index + 1;
  // Visit steps in a scrambled order, then walk back a layer one step at a time.
  const order = Array.from({ length: total }, (_, i) => (i * 37 + 11) % total);
  const moves = [
    ...order.map((index) => ({ to: 'index' as const, index })),
    { to: 'hook' as const, name: 'blocks.0.attn.hook_pattern' },
    { to: 'hook' as const, name: 'blocks.3.mlp.hook_post' },
    ...Array.from({ length: 20 }, () => ({ to: 'previous' as const })),
  ];
  for (const move of moves) {
    const a = stepOf(bounded.move(move, NO_CONTROL));
    const b = stepOf(unbounded.move(move, NO_CONTROL));
    assert.equal(a.name, b.name);
    assert.deepEqual(a.stats, b.stats, a.name);
    assert.ok(Buffer.from(a.view.data.buffer).equals(Buffer.from(b.view.data.buffer)), `${a.name}: the view`);
    // The whole tensor, as Export writes it.
    const ea = bounded.exportCurrent('npy');
    const eb = unbounded.exportCurrent('npy');
    assert.equal(ea.name, a.name);
    assert.ok(Buffer.from(ea.bytes).equals(Buffer.from(eb.bytes)), `${a.name}: the exported tensor`);
  }
  // The overview of every pattern reads every layer once more.
  const oa = bounded.attentionOverview(16, NO_CONTROL).overview.layers;
  const ob = unbounded.attentionOverview(16, NO_CONTROL).overview.layers;
  assert.deepEqual(
    oa.map((l) => l.name),
    ob.map((l) => l.name),
  );
  oa.forEach((l, i) => assert.ok(Buffer.from(l.data.buffer).equals(Buffer.from(ob[i].data.buffer)), l.name));
  // The same pass under the same budget, store in hand: layers were evicted and recomputed.
  const { trace, store } = boundedForward(
    loadModel(cfg, { weights: 'seeded' }).model,
    { ids: [ids] },
    budget,
  );
  const stepper = new Stepper(trace);
  stepper.runToEnd();
  assert.ok(store.residentLayers.length < spec.numLayers, store.residentLayers.join(', '));
  for (let i = 0; i < total; i++) void stepper.goTo(i)!.tensor.data;
  assert.ok(store.layersRecomputed >= 1);
  assert.ok(store.peakBytes <= budget, `held ${store.peakBytes}, budget ${budget}`);
});

test('an input whose kept residuals and one layer do not fit is still refused, with the numbers', () => {
  const budget = 8 * 1024 * 1024;
  const fit = maxTokensForBudget(spec, budget);
  assert.ok(fit > 16 && fit < 4096, String(fit));
  const long = Array.from({ length: 4096 }, (_, i) => i % 64);
  const s = new Session({ memoryBudget: budget });
  assert.throws(
    () => s.load(cfg, { ids: long }, 'seeded', NO_CONTROL),
    (e: unknown) =>
      e instanceof InspectorError &&
      /^an input of 4096 tokens needs about [\d,]+ MB for the forward pass's trace, more than the engine's memory budget of 8 MB: use at most \d+ tokens, or raise the budget \(setting transformerInspector.memoryBudgetMB; CLI --trace-budget\)\. Of it, [\d.,]+ [KM]B is kept \(every layer's input residual, the embeddings, the logits\) and [\d,]+ MB is one layer, recomputed when read \([\d,]+ MB of it attention: 4 heads × 4096² scores and patterns\)$/.test(
        e.message,
      ) &&
      e.message.includes(`use at most ${fit} tokens`),
  );
  // The longest input that fits runs to the end.
  assert.equal(s.load(cfg, { ids: long.slice(0, fit) }, 'seeded', NO_CONTROL).kind, 'loaded');
  assert.equal(stepOf(s.move({ to: 'end' }, NO_CONTROL)).name, 'logits');
});

test('CLI forward: an input past the whole-trace estimate runs under --trace-budget, and --dump recomputes the evicted layers bitwise', () => {
  const cli = path.join(dir, 'cli.transformer.json');
  const cliConfig = {
    architecture: 'decoder',
    vocab_size: 64,
    d_model: 64,
    num_heads: 8,
    d_ff: 128,
    num_layers: 4,
    max_len: 100_000,
    positional: 'rope',
  } as const;
  fs.writeFileSync(cli, JSON.stringify(cliConfig));
  const tokens = 256;
  const est = estimateTrace(nativeSpecFromJson(cliConfig), tokens);
  const budgetMB = 8;
  assert.ok(
    est.fullBytes > 2 * budgetMB * 2 ** 20 && est.bytes < budgetMB * 2 ** 20,
    `${est.fullBytes} / ${est.bytes}`,
  );
  const argv = (mb: number, dump: string) => [
    cli,
    '--ids',
    Array.from({ length: tokens }, (_, i) => (i * 5) % 64).join(','),
    '--trace-budget',
    String(mb),
    '--top',
    '1',
    '--dump',
    dump,
  ];
  const lines: string[] = [];
  const bounded = path.join(dir, 'bounded.trace.safetensors');
  const whole = path.join(dir, 'whole.trace.safetensors');
  assert.equal(
    runForward(argv(budgetMB, bounded), (l) => lines.push(l)),
    0,
  );
  assert.ok(
    lines.some((l) =>
      /^trace {5}[\d.]+ MB held within the [\d.]+ MB trace budget: every layer's input residual and [0-3] of 4 layers/.test(
        l,
      ),
    ),
    lines.join('\n'),
  );
  assert.equal(
    runForward(argv(1024, whole), () => {}),
    0,
  );
  assert.ok(
    fs.readFileSync(bounded).equals(fs.readFileSync(whole)),
    'the dump under the budget is the dump of the whole trace',
  );
});

test('analyses, which record whole passes, keep the whole-trace limit on an input that steps within the budget', () => {
  const est = estimateTrace(spec, T);
  const budget = Math.ceil(est.bytes + est.layerBytes / 2);
  const s = new Session({ memoryBudget: budget });
  s.load(cfg, { ids }, 'seeded', NO_CONTROL);
  assert.throws(
    () => s.handle({ kind: 'analyse', request: { analysis: 'lens', top: 3 } }),
    (e: unknown) =>
      e instanceof InspectorError &&
      /^this analysis records every step of a forward pass: for 384 tokens about [\d,.]+ MB, more than the engine's memory budget of [\d,.]+ MB: give it a shorter input or raise the budget .* Stepping through this input works/.test(
        e.message,
      ),
  );
  assert.throws(
    () => s.handle({ kind: 'compare', input: { ids: ids.slice(0, 8) }, hook: 'blocks.0.hook_resid_post' }),
    /Compare With… records every step/,
  );
  // A short input analyses as before.
  s.setInput({ ids: ids.slice(0, 12) }, NO_CONTROL);
  assert.equal(s.handle({ kind: 'analyse', request: { analysis: 'lens', top: 3 } }).reply.kind, 'analysis');
});
