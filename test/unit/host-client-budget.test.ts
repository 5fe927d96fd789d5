import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { EngineClient, EngineError, engineMemoryOptions } from '../../src/engine/client';
import { defaultMemoryBudget } from '../../engine/model/memory-budget';

// The setting transformerInspector.memoryBudgetMB as the host passes it to the real worker (bundled as scripts/build.mjs does).
let dir: string;
let workerJs: string;
const MiB = 2 ** 20;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'client-budget-'));
  workerJs = join(dir, 'worker.js');
  await esbuild.build({ entryPoints: ['engine/worker/main.ts'], outfile: workerJs, bundle: true, platform: 'node', format: 'cjs', mainFields: ['module', 'main'], logLevel: 'warning' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("memoryBudgetMB 0 or absent is automatic (the machine's budget); a number is that many MB; the heap limit is twice it", () => {
  const automatic = () => 3000 * MiB;
  assert.deepEqual(engineMemoryOptions(0, automatic), { memoryBudget: 3000 * MiB, heapMb: 6000 });
  assert.deepEqual(engineMemoryOptions(undefined, automatic), { memoryBudget: 3000 * MiB, heapMb: 6000 });
  assert.deepEqual(engineMemoryOptions(2048, automatic), { memoryBudget: 2048 * MiB, heapMb: 4096 });
  assert.deepEqual(engineMemoryOptions(8, automatic), { memoryBudget: 16 * MiB, heapMb: 512 });
  assert.equal(engineMemoryOptions(0).memoryBudget, defaultMemoryBudget());
  assert.equal(engineMemoryOptions(undefined).memoryBudget, defaultMemoryBudget());
});

test('the engine process enforces the budget the setting resolved to: automatic, then an explicit one', async () => {
  const cfg = join(dir, 'long.transformer.json');
  writeFileSync(cfg, JSON.stringify({ architecture: 'decoder', vocab_size: 64, d_model: 32, num_heads: 4, d_ff: 64, num_layers: 2, max_len: 100_000, positional: 'rope' }));
  const ids = Array.from({ length: 8192 }, (_, i) => i % 64);
  const refusedAt = async (options: ReturnType<typeof engineMemoryOptions>): Promise<string> => {
    const c = new EngineClient(workerJs, () => {}, options);
    try {
      const e = await c.request({ kind: 'load', configPath: cfg, input: { ids } }).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(e instanceof EngineError && e.kind === 'user', String(e));
      return e.message;
    } finally {
      c.dispose();
    }
  };
  // Automatic on a (pretend) machine whose automatic budget is 24 MB.
  assert.match(await refusedAt(engineMemoryOptions(0, () => 24 * MiB)), /more than the engine's memory budget of 24 MB: use at most \d+ tokens/);
  assert.match(await refusedAt(engineMemoryOptions(40)), /more than the engine's memory budget of 40 MB: use at most \d+ tokens/);
});
