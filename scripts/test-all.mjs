// The one test command (`npm test`): type-check, lint, unit + golden tests (node:test), then the
// suites inside a real VS Code when they exist. Ends with one line `N passed, N failed` over all
// suites, and exits non-zero on any failure.
//   node scripts/test-all.mjs [--only unit|vscode|e2e]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
let passed = 0;
let failed = 0;

function run(label, cmd, args, opts = {}) {
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  process.stdout.write(r.stdout ?? '');
  return { ok: r.status === 0, out: r.stdout ?? '' };
}

function check(label, cmd, args) {
  const { ok } = run(label, cmd, args);
  if (ok) passed++;
  else failed++;
}

function files(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p, suffix) : p.endsWith(suffix) ? [p] : [];
  });
}

/** Count a suite from the closing lines of node's TAP reporter (or mocha's "N passing / N failing"). */
function count(label, out, ok) {
  const tapPass = /^# pass (\d+)$/m.exec(out);
  const tapFail = /^# fail (\d+)$/m.exec(out);
  const mochaPass = /^\s*(\d+) passing/m.exec(out);
  const mochaFail = /^\s*(\d+) failing/m.exec(out);
  const p = Number(tapPass?.[1] ?? mochaPass?.[1] ?? 0);
  const f = Number(tapFail?.[1] ?? mochaFail?.[1] ?? 0);
  passed += p;
  failed += f;
  if (!ok && f === 0) {
    console.log(`${label}: exited non-zero without a failing test: counted as one failure`);
    failed++;
  }
  console.log(`${label}: ${p} passed, ${f} failed`);
}

const want = (s) => !only || only === s;

if (!only) {
  check('typecheck', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
  check('lint', 'npx', ['eslint', '.']);
  check('build', 'node', ['scripts/build.mjs']);
}

if (want('unit')) {
  const tests = files('test/unit', '.test.ts').sort();
  // Both WebAssembly SIMD builds, chosen explicitly (never the runtime's default): everything on plain
  // SIMD, then the kernel and golden tests again on relaxed SIMD (engine/kernels/simd.ts).
  const simd = (choice) => ({ env: { ...process.env, TRANSFORMER_INSPECTOR_SIMD: choice } });
  const { ok, out } = run('unit and golden tests (plain SIMD)', 'node', ['--import', 'tsx', '--test', '--test-reporter=tap', ...tests], simd('plain'));
  count('unit and golden tests (plain SIMD)', out, ok);
  const both = tests.filter((t) => /[\\/](kernels(-[^\\/]*)?|golden-[^\\/]*)\.test\.ts$/.test(t));
  const relaxed = run('kernel and golden tests (relaxed SIMD)', 'node', ['--import', 'tsx', '--test', '--test-reporter=tap', ...both], simd('relaxed'));
  count('kernel and golden tests (relaxed SIMD)', relaxed.out, relaxed.ok);
}

if (want('vscode') && existsSync('test/vscode/run.mjs')) {
  const { ok, out } = run('tests inside VS Code', 'node', ['test/vscode/run.mjs']);
  count('tests inside VS Code', out, ok);
}

if (want('e2e') && existsSync('test/e2e/run.mjs')) {
  const { ok, out } = run('end-to-end UI tests', 'node', ['test/e2e/run.mjs']);
  count('end-to-end UI tests', out, ok);
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
