import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isInspectorError } from '../../engine/errors';
import { RELAXED_SIMD_FLAG, relaxedProbeBytes, relaxedSimdExecArgv, simdChoice } from '../../engine/kernels/simd';

/**
 * Which SIMD build runs: TRANSFORMER_INSPECTOR_SIMD, the relaxed-SIMD probe, the flag the CLI sets on
 * itself and the one the extension passes to the engine process it forks. Each case runs in a fresh
 * process (V8 flags are process-wide and cannot be turned off again), so nothing here depends on the
 * flags or defaults of the process running the tests.
 */

/** Run `code` (CommonJS, .ts requires through tsx) in a fresh Node with these V8 flags and env; its stdout as JSON. */
function child(code: string, flags: string[], env: Record<string, string | undefined>): Record<string, unknown> {
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, TRANSFORMER_INSPECTOR_SIMD: undefined, ...env },
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Reports the build each choice picks (the environment's first), then the probe in this thread and in a worker thread. */
const report = (picked = "{ env: pick(), plain: pick('plain'), auto: pick('auto'), relaxed: pick('relaxed') }") => `
const { Worker } = require('node:worker_threads');
const simd = require('./engine/kernels/simd.ts');
const { findWasmBinaries } = require('./engine/kernels/wasm.ts');
const pick = (c) => { try { return findWasmBinaries(c)?.variant ?? 'none'; } catch (e) { return 'error: ' + e.message; } };
const picks = ${picked};
const w = new Worker("require('node:worker_threads').parentPort.postMessage(WebAssembly.validate(new Uint8Array(require('node:worker_threads').workerData)))", { eval: true, workerData: Array.from(simd.relaxedProbeBytes()) });
w.once('message', (inWorker) => {
  console.log(JSON.stringify({ ...picks, main: simd.relaxedSimdValidates(), worker: inWorker }));
  w.terminate();
});
`;

test('TRANSFORMER_INSPECTOR_SIMD: plain, relaxed, auto (or unset); anything else is a named error', () => {
  assert.equal(simdChoice({}), 'auto');
  assert.equal(simdChoice({ TRANSFORMER_INSPECTOR_SIMD: 'auto' }), 'auto');
  assert.equal(simdChoice({ TRANSFORMER_INSPECTOR_SIMD: 'plain' }), 'plain');
  assert.equal(simdChoice({ TRANSFORMER_INSPECTOR_SIMD: ' Relaxed ' }), 'relaxed');
  assert.throws(() => simdChoice({ TRANSFORMER_INSPECTOR_SIMD: 'avx512' }), (e) => isInspectorError(e) && /plain', 'relaxed' or 'auto', not 'avx512'/.test(e.message));
});

test('the relaxed-SIMD probe is a valid module once the flag is on, in the main thread and in worker threads', () => {
  const r = child(report(), [RELAXED_SIMD_FLAG], {});
  assert.deepEqual([r.main, r.worker], [true, true]);
  assert.equal(r.auto, 'relaxed-simd');
  assert.equal(r.relaxed, 'relaxed-simd');
  assert.equal(r.plain, 'simd', 'plain SIMD stays available when relaxed SIMD validates');
  assert.ok(relaxedProbeBytes().length > 8);
});

test("the CLI's first import turns relaxed SIMD on before any module is compiled; the kernel threads see it", () => {
  const r = child(`require('./engine/cli/relaxed-simd.ts');${report('{ env: pick() }')}`, [], { TRANSFORMER_INSPECTOR_SIMD: 'auto' });
  assert.deepEqual([r.main, r.worker], [true, true], 'the flag set at run time reaches this thread and a worker thread');
  assert.equal(r.env, 'relaxed-simd');
});

test('TRANSFORMER_INSPECTOR_SIMD=plain forces plain SIMD; =relaxed turns the flag on itself and takes the relaxed build', () => {
  const plain = child(report(), [RELAXED_SIMD_FLAG], { TRANSFORMER_INSPECTOR_SIMD: 'plain' });
  assert.equal(plain.env, 'simd', 'plain SIMD although relaxed SIMD validates');
  const relaxed = child(report(), [], { TRANSFORMER_INSPECTOR_SIMD: 'relaxed' });
  assert.equal(relaxed.env, 'relaxed-simd');
  assert.equal(relaxed.main, true);
});

test("the engine process the extension forks (same executable, the client's execArgv) validates relaxed SIMD", () => {
  const argv = relaxedSimdExecArgv();
  assert.ok(argv.length === 0 || (argv.length === 1 && argv[0] === RELAXED_SIMD_FLAG), `execArgv ${argv.join(' ')}`);
  const r = spawnSync(process.execPath, [...argv, '-e', `console.log(WebAssembly.validate(new Uint8Array(${JSON.stringify(Array.from(relaxedProbeBytes()))})))`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'true');
});
