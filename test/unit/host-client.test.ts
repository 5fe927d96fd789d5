import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { EngineClient, EngineError, CANCEL_GRACE_MS } from '../../src/engine/client';

// The real worker entry, bundled the way scripts/build.mjs bundles dist/worker.js.
let dir: string;
let workerJs: string;
const tutorial = resolve('examples/tutorial/tutorial.transformer.json');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'client-'));
  workerJs = join(dir, 'worker.js');
  await esbuild.build({ entryPoints: ['engine/worker/main.ts'], outfile: workerJs, bundle: true, platform: 'node', format: 'cjs', mainFields: ['module', 'main'], logLevel: 'warning' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('load, move and export through the worker; typed arrays arrive intact', async () => {
  const c = new EngineClient(workerJs);
  try {
    const loaded = await c.request({ kind: 'load', configPath: tutorial });
    assert.equal(loaded.kind, 'loaded');
    assert.equal(loaded.model.configPath, tutorial);
    const moved = await c.request({ kind: 'move', move: { to: 'hook', name: 'blocks.0.attn.hook_pattern' } });
    assert.equal(moved.position.kind, 'step');
    if (moved.position.kind === 'step') {
      assert.ok(moved.position.step.view.data instanceof Float32Array);
      assert.equal(moved.position.step.view.kind, 'attention');
    }
    const exported = await c.request({ kind: 'export', format: 'npy' });
    assert.ok(exported.bytes instanceof Uint8Array);
    assert.deepEqual(exported.shape, [1, 2, 8, 8]);
  } finally {
    c.dispose();
  }
});

test('a user mistake comes back as a user EngineError with its place', async () => {
  const c = new EngineClient(workerJs);
  try {
    const cfg = join(dir, 'bad.transformer.json');
    writeFileSync(cfg, JSON.stringify({ vocab_size: 32, d_model: 16, num_heads: 3, d_ff: 32, num_layers: 2, max_len: 16 }));
    await assert.rejects(c.request({ kind: 'load', configPath: cfg }), (e: unknown) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.kind, 'user');
      assert.equal(e.failure?.place?.key, 'num_heads');
      assert.match(e.describe(), /^key 'num_heads': d_model \(16\) must be divisible by num_heads \(3\)/);
      return true;
    });
  } finally {
    c.dispose();
  }
});

test('a crash rejects what was pending, is reported, and the next request gets a fresh worker', async () => {
  const logs: string[] = [];
  const c = new EngineClient(workerJs, (l) => logs.push(l));
  const restarts: string[] = [];
  c.onRestart((reason) => restarts.push(reason));
  try {
    await c.request({ kind: 'load', configPath: tutorial });
    await assert.rejects(c.request({ kind: 'crashForTest' }), (e: unknown) => e instanceof EngineError && e.kind === 'crash' && /exit code 70/.test(e.message));
    assert.deepEqual(restarts, ['crash']);
    // the new worker holds no model
    await assert.rejects(c.request({ kind: 'move', move: { to: 'next' } }), /no model is loaded/);
    const again = await c.request({ kind: 'load', configPath: tutorial });
    assert.equal(again.kind, 'loaded');
    assert.ok(logs.filter((l) => l.startsWith('engine worker started')).length >= 2);
  } finally {
    c.dispose();
  }
});

test('cancel stops a long run between steps (cooperative)', async () => {
  const cfg = join(dir, 'big.transformer.json');
  writeFileSync(cfg, JSON.stringify({ vocab_size: 5000, d_model: 512, num_heads: 4, d_ff: 2048, num_layers: 12, max_len: 64 }));
  const c = new EngineClient(workerJs);
  try {
    await c.request({ kind: 'load', configPath: cfg, input: { ids: Array.from({ length: 64 }, (_, i) => i) } });
    let progress = 0;
    const run = c.start({ kind: 'move', move: { to: 'end' } }, { onProgress: () => progress++ });
    setTimeout(() => c.cancel(run.id), 30);
    const r = await run.result;
    assert.equal(r.cancelled, true);
    assert.equal(r.position.kind === 'step' && r.position.step.done, false);
  } finally {
    c.dispose();
  }
});

test('a request that ignores cancel is ended by terminating the worker', async () => {
  // A stand-in engine process that never answers.
  const stub = join(dir, 'stuck.js');
  writeFileSync(stub, "process.on('message', () => { for (;;) {} });\n");
  const c = new EngineClient(stub);
  const restarts: string[] = [];
  c.onRestart((reason) => restarts.push(reason));
  try {
    const r = c.start({ kind: 'move', move: { to: 'end' } });
    const t0 = Date.now();
    c.cancel(r.id);
    await assert.rejects(r.result, (e: unknown) => e instanceof EngineError && e.kind === 'cancelled');
    assert.ok(Date.now() - t0 >= CANCEL_GRACE_MS - 50);
    assert.deepEqual(restarts, ['cancelled']);
  } finally {
    c.dispose();
  }
});
