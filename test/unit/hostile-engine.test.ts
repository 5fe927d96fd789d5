import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { EngineClient, EngineError, exitMessage } from '../../src/engine/client';
import { userFacingFailure } from '../../engine/worker/failure';
import { estimateTrace, maxTokensForBudget } from '../../engine/worker/budget';
import { readConfigSpec } from '../../engine/model/load';
import { pooledAttention, MAX_ATTENTION_SIDE } from '../../engine/worker/views';

// The engine in its own process (issue 9): hostile inputs end as named errors or kill only the engine
// process; the client reports it and the next request works.
let dir: string;
let engineJs: string;
const tutorial = resolve('examples/tutorial/tutorial.transformer.json');
const gpt2 = resolve('test/fixtures/hf/gpt2');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ti-hostile-engine-'));
  engineJs = join(dir, 'worker.js');
  await esbuild.build({ entryPoints: ['engine/worker/main.ts'], outfile: engineJs, bundle: true, platform: 'node', format: 'cjs', mainFields: ['module', 'main'], logLevel: 'warning' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function gpt2Folder(name: string, tokenizer: (file: string) => void): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer_config.json']) copyFileSync(join(gpt2, f), join(d, f));
  tokenizer(join(d, 'tokenizer.json'));
  return join(d, 'config.json');
}

async function userError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EngineError, String(e));
    assert.equal(e.kind, 'user', e.message);
    assert.match(e.describe(), pattern);
    return true;
  });
}

test('the engine runs in another process than the host', async () => {
  const c = new EngineClient(engineJs);
  try {
    await c.request({ kind: 'load', configPath: tutorial });
    assert.ok(c.pid !== undefined && c.pid !== process.pid);
  } finally {
    c.dispose();
  }
});

test('a /dev/zero tokenizer is a named error; the same engine then loads the next model', async () => {
  const c = new EngineClient(engineJs);
  const restarts: string[] = [];
  c.onRestart((r) => restarts.push(r));
  try {
    await userError(c.request({ kind: 'load', configPath: gpt2Folder('zero', (f) => symlinkSync('/dev/zero', f)) }), /cannot read tokenizer: it is a character device/);
    const pid = c.pid;
    const ok = await c.request({ kind: 'load', configPath: tutorial });
    assert.equal(ok.kind, 'loaded');
    assert.equal(c.pid, pid);
    assert.deepEqual(restarts, []);
  } finally {
    c.dispose();
  }
});

test('a tokenizer that runs past its time limit is stopped by the watchdog, named, and the engine restarts', async () => {
  process.env.TI_TOKENIZE_LIMIT_MS = '300';
  const c = new EngineClient(engineJs);
  const restarts: string[] = [];
  c.onRestart((r, m) => restarts.push(`${r}: ${m}`));
  try {
    // (a|a)*$ has no nested quantifier, so the static check lets it through, but it backtracks exponentially.
    const cfg = gpt2Folder('slow', (f) => {
      const tok = JSON.parse(readFileSync(join(gpt2, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
      tok.pre_tokenizer = { type: 'Split', pattern: { Regex: '(a|a)*$' }, behavior: 'Isolated', invert: false };
      writeFileSync(f, JSON.stringify(tok));
    });
    await c.request({ kind: 'load', configPath: cfg, input: { ids: [1, 2] } });
    const t0 = Date.now();
    await userError(c.request({ kind: 'setInput', input: { text: `${'a'.repeat(40)}!` } }), /tokenizing took longer than 300 ms and was stopped/);
    assert.ok(Date.now() - t0 < 5000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(restarts.length, 1);
    assert.match(restarts[0], /^crash: the tokenizer ran past its time limit/);
    assert.equal((await c.request({ kind: 'load', configPath: tutorial })).kind, 'loaded');
  } finally {
    delete process.env.TI_TOKENIZE_LIMIT_MS;
    c.dispose();
  }
});

test('a V8 out-of-memory or an abort kills only the engine process: reported, and a fresh engine answers', async () => {
  for (const [name, body, pattern] of [
    ['oom.js', "process.on('message', () => { const a = []; for (;;) a.push(new Array(1000).fill({})); });", /ran out of memory \(heap limit 32 MB\)/],
    ['abort.js', "process.on('message', () => process.abort());", /ran out of memory|signal SIGABRT/],
  ] as const) {
    const stub = join(dir, name);
    writeFileSync(stub, body);
    const c = new EngineClient(stub, () => {}, { heapMb: 32 });
    try {
      await assert.rejects(c.request({ kind: 'load', configPath: tutorial }), (e: unknown) => e instanceof EngineError && e.kind === 'crash' && pattern.test(e.message));
    } finally {
      c.dispose();
    }
  }
  // The host process is still here, and a real engine still works.
  const c = new EngineClient(engineJs);
  try {
    assert.equal((await c.request({ kind: 'load', configPath: tutorial })).kind, 'loaded');
  } finally {
    c.dispose();
  }
});

test('an input past the activation budget is refused with the numbers before anything runs', async () => {
  const cfg = join(dir, 'long.transformer.json');
  writeFileSync(cfg, JSON.stringify({ architecture: 'decoder', vocab_size: 64, d_model: 32, num_heads: 4, d_ff: 64, num_layers: 2, max_len: 100_000, positional: 'rope' }));
  const c = new EngineClient(engineJs, () => {}, { memoryBudget: 64 * 1024 * 1024 });
  try {
    const ids = Array.from({ length: 16_384 }, (_, i) => i % 64);
    const t0 = Date.now();
    await userError(c.request({ kind: 'load', configPath: cfg, input: { ids } }), /an input of 16384 tokens needs about [\d,]+ MB .* more than the engine's memory budget of 64 MB: use at most \d+ tokens, or raise the budget/);
    assert.ok(Date.now() - t0 < 3000);
    const spec = readConfigSpec(cfg);
    const fit = maxTokensForBudget(spec, 64 * 1024 * 1024);
    assert.ok(fit > 100 && fit < 16_384, String(fit));
    assert.ok(estimateTrace(spec, fit).bytes <= 64 * 1024 * 1024 && estimateTrace(spec, fit + 1).bytes > 64 * 1024 * 1024);
    // The longest input that fits runs.
    const loaded = await c.request({ kind: 'load', configPath: cfg, input: { ids: ids.slice(0, Math.min(fit, 600)) } });
    assert.equal(loaded.kind, 'loaded');
    const moved = await c.request({ kind: 'move', move: { to: 'hook', name: 'blocks.0.attn.hook_pattern' } });
    assert.ok(moved.position.kind === 'step');
    if (moved.position.kind === 'step' && moved.position.step.view.kind === 'attention') {
      const v = moved.position.step.view;
      assert.ok(v.queries <= MAX_ATTENTION_SIDE && v.keys <= MAX_ATTENTION_SIDE, `${v.queries}×${v.keys}`);
      if (Math.min(fit, 600) > MAX_ATTENTION_SIDE) assert.equal(v.pooled?.queries, Math.min(fit, 600));
    }
  } finally {
    c.dispose();
  }
});

test('attention views are max-pooled to at most 512 × 512 per head; masked tiles stay masked', () => {
  const heads = 2;
  const T = 1030;
  const data = new Float32Array(heads * T * T);
  const mask = new Uint8Array(T * T);
  for (let q = 0; q < T; q++) for (let k = 0; k <= q; k++) mask[q * T + k] = 1; // causal
  data[(1 * T + 1029) * T + 1029] = 0.75;
  const labels = Array.from({ length: T }, (_, i) => `t${i}`);
  const v = pooledAttention(data, mask, heads, T, T, labels, labels);
  assert.equal(v.queries, 344); // ceil(1030 / 3)
  assert.equal(v.keys, 344);
  assert.equal(v.data.length, heads * 344 * 344);
  assert.equal(v.data[(1 * 344 + 343) * 344 + 343], 0.75);
  assert.equal(v.mask?.[0 * 344 + 343], 0); // the top-right tile is all above the diagonal
  assert.equal(v.mask?.[343 * 344 + 0], 1);
  assert.deepEqual(v.pooled, { queries: T, keys: T, queryTile: 3, keyTile: 3 });
  assert.equal(v.queryLabels[1], 't3…#5');
});

test('engine failures: allocation failures are named resource errors; other exceptions are bugs that name the request', () => {
  const oom = userFacingFailure(new RangeError('Array buffer allocation failed'), 'load');
  assert.equal(oom.user, true);
  assert.match(oom.message, /^out of memory during 'load' \(Array buffer allocation failed\): .*shorter input or a smaller model/);
  const range = userFacingFailure(new RangeError('Maximum call stack size exceeded'), 'move');
  assert.equal(range.user, false, 'a RangeError is not a user error by itself');
  assert.match(range.message, /^internal error during 'move': Maximum call stack size exceeded/);
  assert.ok(range.stack?.includes('RangeError'));
  assert.match(userFacingFailure(new Error('x'.repeat(1000)), 'export').message, /… \(1000 characters\)/);
  assert.match(exitMessage(71, null, 2048), /ran out of memory \(heap limit 2048 MB\)/);
  assert.match(exitMessage(null, 'SIGABRT', 512), /ran out of memory/);
  assert.match(exitMessage(74, null, 512), /tokenizer ran past its time limit/);
  assert.match(exitMessage(70, null, 512), /exit code 70/);
});
