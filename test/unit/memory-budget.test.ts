import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AUTO_BUDGET_MAX,
  AUTO_BUDGET_MIN,
  autoMemoryBudget,
  autoWeightBudget,
  budgetFromMb,
  defaultMemoryBudget,
  formatMB,
  machineMemory,
} from '../../engine/model/memory-budget';
import { checkFitsInMemory, memoryNeed } from '../../engine/model/fits';
import { findConfig, findWeights, loadModel, openWeights } from '../../engine/model/load';
import { hfSpec } from '../../engine/model/hf';
import { estimateTrace } from '../../engine/worker/budget';
import { Session } from '../../engine/worker/session';
import { isInspectorError } from '../../engine/errors';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');

/** TinyLlama-1.1B's config (tools/make_random_llama.mjs --shape tinyllama-1.1b). */
const TINYLLAMA = {
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  vocab_size: 32000,
  max_position_embeddings: 2048,
  rope_theta: 10000,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
};
/** Its BF16 checkpoint as held: 2 bytes per matrix element, norms widened to fp32. */
function tinyllamaHeldBytes(): number {
  const { hidden_size: d, intermediate_size: f, num_hidden_layers: L, vocab_size: v } = TINYLLAMA;
  const kv = (TINYLLAMA.num_key_value_heads * d) / TINYLLAMA.num_attention_heads;
  const perLayer = 2 * (d * d * 2 + 2 * d * kv + 3 * d * f) + 4 * 2 * d;
  return 2 * 2 * v * d + L * perLayer + 4 * d;
}

test('the automatic budget is a quarter of the usable memory, clamped, in whole MiB', () => {
  // This machine's shape: 24 GiB, most of it available.
  assert.equal(autoMemoryBudget({ totalBytes: 24 * GiB, freeBytes: 22 * GiB }), 5.5 * GiB);
  // What is available now counts, not only the total.
  assert.equal(autoMemoryBudget({ totalBytes: 24 * GiB, freeBytes: 6 * GiB }), 1.5 * GiB);
  // A container's limit counts.
  assert.equal(autoMemoryBudget({ totalBytes: 24 * GiB, freeBytes: 22 * GiB, limitBytes: 4 * GiB }), 1 * GiB);
  // A small machine still gets a budget that runs small models; a big one keeps room for the rest.
  assert.equal(autoMemoryBudget({ totalBytes: 2 * GiB, freeBytes: 1.5 * GiB }), 384 * MiB);
  assert.equal(autoMemoryBudget({ totalBytes: 512 * MiB, freeBytes: 100 * MiB }), AUTO_BUDGET_MIN);
  assert.equal(autoMemoryBudget({ totalBytes: 1024 * GiB, freeBytes: 1000 * GiB }), AUTO_BUDGET_MAX);
  assert.equal(autoMemoryBudget({ totalBytes: 24 * GiB, freeBytes: 10 * GiB + 12345 }) % MiB, 0);
});

test('on a 24 GiB machine, TinyLlama-1.1B-shaped BF16 at 2,048 tokens steps through by default, weights held whole', () => {
  const machine = { totalBytes: 24 * GiB, freeBytes: 22 * GiB };
  const budget = autoMemoryBudget(machine);
  const spec = hfSpec(JSON.stringify(TINYLLAMA), 'tinyllama/config.json');
  const est = estimateTrace(spec, 2048);
  assert.ok(est.bytes <= budget, `${formatMB(est.bytes)} needed within ${formatMB(budget)}`);
  // The old 1 GiB default did not fit one layer.
  assert.ok(est.bytes > GiB);
  const held = tinyllamaHeldBytes();
  assert.ok(held > 2.1e9 && held < 2.3e9, String(held));
  assert.equal(autoWeightBudget(held, budget, machine.freeBytes), undefined, 'held whole: a recomputed layer re-reads no weights');
  // On a busy 8 GiB machine the default is smaller, and the weights still fit beside it.
  const small = { totalBytes: 8 * GiB, freeBytes: 5 * GiB };
  assert.equal(autoWeightBudget(held, autoMemoryBudget(small), small.freeBytes), undefined);
});

test('the weights are streamed only when they do not fit beside the activation budget', () => {
  assert.equal(autoWeightBudget(2 * GiB, 1 * GiB, 3 * GiB), undefined);
  // One byte more: streamed within half of what is left beside the budget.
  assert.equal(autoWeightBudget(2 * GiB + 1, 1 * GiB, 3 * GiB), 1 * GiB);
  // Past the kernels' 4 GiB memory: streamed even when the memory would hold them.
  assert.equal(autoWeightBudget(5 * GiB, 1 * GiB, 20 * GiB, false), 9.5 * GiB);
  // Too little left even to stream: no budget, so the fits check refuses with the numbers.
  assert.equal(autoWeightBudget(4 * GiB, 1 * GiB, 1 * GiB + 100 * MiB), undefined);
});

test('a setting of 0, absent or not a positive number is automatic; otherwise that many MiB, at least the minimum', () => {
  const automatic = () => 777 * MiB;
  for (const mb of [0, undefined, Number.NaN, -5]) assert.equal(budgetFromMb(mb, 16, automatic), 777 * MiB, String(mb));
  assert.equal(budgetFromMb(2048, 16, automatic), 2 * GiB);
  assert.equal(budgetFromMb(4, 16, automatic), 16 * MiB);
  assert.equal(budgetFromMb(undefined), defaultMemoryBudget());
});

test("this process's default is the machine's automatic budget, computed once (or the environment variable)", () => {
  const first = defaultMemoryBudget();
  assert.equal(defaultMemoryBudget(), first);
  const env = Number(process.env.TRANSFORMER_INSPECTOR_TRACE_BUDGET);
  if (env > 0) assert.equal(first, env);
  else {
    assert.ok(first >= AUTO_BUDGET_MIN && first <= AUTO_BUDGET_MAX);
    const m = machineMemory();
    assert.ok(m.totalBytes === os.totalmem() && m.freeBytes > 0);
  }
});

test('one budget: the check at load adds the same activation budget the session uses, and names it', () => {
  const config = findConfig(path.join(HF, 'llama_bf16'));
  const weights = openWeights(findWeights(config)!);
  // Below the model's whole trace at its longest input, so the check adds the budget itself.
  const spec = loadModel(config).spec;
  const budget = 256 * 1024;
  assert.ok(estimateTrace(spec, spec.maxLen).fullBytes > budget);
  const needed = memoryNeed(0n, weights).weightBytes + budget;
  assert.doesNotThrow(() => checkFitsInMemory(config, 0n, weights, needed, budget));
  assert.throws(
    () => loadModel(path.join(HF, 'llama_bf16'), { activationBudget: budget, availableBytes: needed - 1 }),
    (e) =>
      isInspectorError(e) &&
      e.message.includes(`${needed.toLocaleString('en-US')} bytes with the engine's memory budget of 256 KB for the trace`) &&
      e.message.includes(`but ${(needed - 1).toLocaleString('en-US')} bytes`) &&
      e.message.includes('transformerInspector.memoryBudgetMB'),
  );
  assert.equal(loadModel(path.join(HF, 'llama_bf16'), { activationBudget: budget, availableBytes: needed }).streaming, undefined);
});

test('a session refuses at load a model that does not fit beside its own budget, naming the budget its trace refusals name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-one-budget-'));
  try {
    // max_len 10⁶: its whole trace (10¹² scores per head) could fill any budget, so the check adds the session's.
    const huge = path.join(dir, 'huge.transformer.json');
    fs.writeFileSync(huge, JSON.stringify({ architecture: 'decoder', vocab_size: 64, d_model: 32, num_heads: 4, d_ff: 64, num_layers: 2, max_len: 1_000_000, positional: 'rope' }));
    const budget = 1e15; // more than any machine has: the load check must use it
    const s = new Session({ memoryBudget: budget });
    assert.equal(s.memoryBudget, budget);
    assert.throws(
      () => s.handle({ kind: 'load', configPath: huge }),
      (e) => isInspectorError(e) && e.message.includes(`too large to run here`) && e.message.includes(`memory budget of ${formatMB(budget)} for the trace`),
    );
    // A model whose whole trace at max_len is small runs under the same budget: a budget is never filled past it.
    assert.equal((s.handle({ kind: 'load', configPath: path.join(HF, 'llama_bf16') }).reply as { kind: string }).kind, 'loaded');
    // A budget that fits: the same session's per-input refusal names the same number.
    const cfg = path.join(dir, 'long.transformer.json');
    fs.writeFileSync(cfg, JSON.stringify({ architecture: 'decoder', vocab_size: 64, d_model: 32, num_heads: 4, d_ff: 64, num_layers: 2, max_len: 100_000, positional: 'rope' }));
    const small = new Session({ memoryBudget: 8 * MiB });
    const ids = Array.from({ length: 4096 }, (_, i) => i % 64);
    assert.throws(() => small.handle({ kind: 'load', configPath: cfg, input: { ids } }), /more than the engine's memory budget of 8 MB/);
    // With no budget given, the session takes this process's default (the automatic one).
    assert.equal(new Session().memoryBudget, defaultMemoryBudget());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
