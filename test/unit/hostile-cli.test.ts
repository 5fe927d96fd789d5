import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';

// The CLI on a user's mistakes (issue 9): one line, no stack trace; usage errors exit 2, others 1.
let dir: string;
let cli: string;
const tutorial = resolve('examples/tutorial/tutorial.transformer.json');
const translation = resolve('examples/translation/translation.transformer.json');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ti-hostile-cli-'));
  cli = join(dir, 'cli.js'); // bundled as scripts/build.mjs bundles dist/cli.js
  await esbuild.build({ entryPoints: ['engine/cli.ts'], outfile: cli, bundle: true, platform: 'node', format: 'cjs', mainFields: ['module', 'main'], logLevel: 'warning' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): { code: number | null; err: string; out: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, TMPDIR: dir } });
  return { code: r.status, err: r.stderr, out: r.stdout };
}

function oneLine(r: { err: string }): void {
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.doesNotMatch(r.err, /\n\s+at |internal error/, r.err);
}

for (const [args, code, pattern] of [
  [['forward', tutorial, '--ids', '-1,2'], 2, /^usage error: Option '--ids' argument is ambiguous/],
  [['forward', tutorial, '--ids=-1,2'], 2, /^usage error: --ids: '-1' \(sequence 0, position 0\) is not a non-negative integer/],
  [['forward', tutorial, '--ids'], 2, /^usage error: Option '--ids <value>' argument missing/],
  [['forward', tutorial, '--idz', '1,2'], 2, /^usage error: Unknown option '--idz'/],
  [['forward', tutorial, '--ids', '1,2', '--seed', '-1'], 2, /^usage error: Option '--seed' argument is ambiguous/],
  [['forward', tutorial, '--ids', '1,2', '--seed=-1'], 2, /^usage error: --seed must be a non-negative integer/],
  [['forward', tutorial, '--ids', '1,2', '--seed', '4294967296'], 2, /^usage error: --seed must be at most 4294967295/],
  [['forward', tutorial, '--ids', '1,2', '--mask', '5,1'], 2, /^usage error: --mask: 5 \(sequence 0, position 0\) must be 1 \(attend\) or 0 \(masked\)/],
  [['forward', tutorial, '--ids', '1,2', '--mask=5,-1'], 2, /^usage error: --mask: '-1'/],
  [['forward', tutorial, '--ids', '1,2', '--decoder-ids', '1'], 2, /^usage error: --decoder-ids and --decoder-text apply only to encoder-decoder models/],
  [['forward', tutorial], 2, /^usage error: forward needs --ids or --text/],
  [['frobnicate'], 2, /^usage error: unknown command 'frobnicate'/],
  [['forward', tutorial, '--ids', '1,2', '--dump', '/nonexistent-folder/out.safetensors'], 1, /^error: \/nonexistent-folder\/out\.safetensors: --dump: the folder \/nonexistent-folder does not exist/],
  [['forward', tutorial, '--ids', '1,2,99'], 1, /^error: input ids: id 99 at position 2 is outside the vocabulary/],
  [['forward', '/nonexistent.transformer.json', '--ids', '1'], 1, /^error: \/nonexistent\.transformer\.json: no such file or folder/],
] as const) {
  test(`forward ${args.slice(2).join(' ') || args[0]} → exit ${code}`, () => {
    const r = run(...args);
    assert.equal(r.code, code, r.err);
    oneLine(r);
    assert.match(r.err, pattern);
  });
}

test('a 100,000-deep nested config on forward is a one-line error', () => {
  const f = join(dir, 'deep.transformer.json');
  writeFileSync(f, '{"x":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}');
  const r = run('forward', f, '--ids', '1');
  assert.equal(r.code, 1);
  oneLine(r);
  assert.match(r.err, /nested deeper than 256 levels/);
});

test('16,384 ids past the budget: the numbers, not "Array buffer allocation failed"', () => {
  const f = join(dir, 'long.transformer.json');
  writeFileSync(f, JSON.stringify({ architecture: 'decoder', vocab_size: 64, d_model: 64, num_heads: 8, d_ff: 128, num_layers: 4, max_len: 100_000, positional: 'rope' }));
  const ids = Array.from({ length: 16_384 }, (_, i) => i % 64).join(',');
  const r = run('forward', f, '--ids', ids, '--trace-budget', '256');
  assert.equal(r.code, 1);
  oneLine(r);
  assert.match(r.err, /an input of 16384 tokens needs about [\d,]+ MB .* budget of 256 MB: use at most \d+ tokens/);
});

test('--help shows one forward usage; the translation header names the decoder vocabulary', () => {
  const help = run('--help');
  assert.equal(help.code, 0);
  assert.equal(help.out.match(/transformer-inspector forward/g)?.length, 1);
  assert.match(help.out, /Exit codes: 0 done, 1 .*, 2 a usage error, 70 an internal error/);
  const r = run('forward', translation, '--ids', '1,2', '--decoder-ids', '1');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /vocab 40 \(decoder 48\)/);
  assert.match(r.out, /logits\s+\[1, 1, 48\]/);
  assert.ok(!existsSync(join(dir, `transformer-inspector-${process.pid}.log`)));
});
