import { test, before, after } from 'node:test';
import { mulberry32 } from '../../engine/model/rng';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { EngineClient, EngineError } from '../../src/engine/client';

/**
 * A seeded fuzz of the files a model folder holds (issue 9): mutated safetensors headers, shard
 * indexes, configs and tokenizer files, each loaded in the engine process. Nothing may escape as an
 * internal error (a stack trace), a hang (per-case limit) or a dead engine process. The counts are
 * printed and recorded in docs/reliability.md.
 */
const CASES_PER_KIND = Number(process.env.TI_FUZZ_CASES ?? 400);
const CASE_LIMIT_MS = 5000;
const SEED = 0x9e3779b9;

let dir: string;
let engineJs: string;
const gpt2 = resolve('test/fixtures/hf/gpt2');
const tutorial = resolve('examples/tutorial');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ti-hostile-fuzz-'));
  engineJs = join(dir, 'worker.js');
  await esbuild.build({ entryPoints: ['engine/worker/main.ts'], outfile: engineJs, bundle: true, platform: 'node', format: 'cjs', mainFields: ['module', 'main'], logLevel: 'warning' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The engine's seeded generator (mulberry32), so every run tries the same cases. */
const rng = mulberry32;

const HOSTILE: unknown[] = [-1, 0, 1, 2 ** 31, 2 ** 53, 1e308, -1e308, 0.5, 'x', '', null, true, [], {}, [1, 2, 3], { a: 1 }, 'a'.repeat(5000), [2 ** 40, 2 ** 40], [-1, 8]];
const JUNK = ['{', '}', '[', ']', ',', ':', '"', '\\', '\u0000', 'null', '1e999', '-', '\uffff', '{"a":', ']]]]', '"\\u12'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Replace, delete or duplicate one value somewhere in a JSON document. */
function mutateValue(doc: Json, r: () => number): Json {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  let node: Json = copy;
  for (let depth = 0; depth < 4; depth++) {
    const container: Json = node;
    if (typeof container !== 'object' || container === null) break;
    const keys = Object.keys(container);
    if (keys.length === 0) break;
    const k = pick(keys);
    const child = (container as Record<string, Json>)[k];
    const stop = typeof child !== 'object' || child === null || r() < 0.35;
    if (stop) {
      const c = container as Record<string, Json>;
      const op = r();
      if (op < 0.6) c[k] = pick(HOSTILE) as Json;
      else if (op < 0.8) delete c[k];
      else c[`${k}_${Math.floor(r() * 100)}`] = child;
      return copy;
    }
    node = child;
  }
  return copy;
}

/** Flip, cut, insert or repeat characters of a text. */
function mutateText(text: string, r: () => number): string {
  const at = Math.floor(r() * text.length);
  const op = r();
  if (op < 0.3) return text.slice(0, at) + JUNK[Math.floor(r() * JUNK.length)] + text.slice(at);
  if (op < 0.5) return text.slice(0, at);
  if (op < 0.7) return text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 20));
  if (op < 0.85) return text.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(at + 1);
  const n = 1 + Math.floor(r() * 300);
  return text.slice(0, at) + '['.repeat(n) + text.slice(at);
}

function mutateJsonText(text: string, r: () => number): string {
  if (r() < 0.6) {
    let doc = JSON.parse(text) as Json;
    for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) doc = mutateValue(doc, r);
    return JSON.stringify(doc);
  }
  return mutateText(text, r);
}

/** A safetensors file with its header's JSON mutated (and sometimes the length field or the data). */
function mutateSafetensors(bytes: Buffer, r: () => number): Buffer {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = bytes.subarray(8, 8 + n).toString('utf8');
  const data = bytes.subarray(8 + n);
  const op = r();
  if (op < 0.1) {
    const out = Buffer.from(bytes);
    out.writeBigUInt64LE(BigInt(Math.floor(r() * 2 ** 40)), 0);
    return out;
  }
  if (op < 0.2) return bytes.subarray(0, Math.floor(r() * bytes.length));
  const h = Buffer.from(mutateJsonText(header, r));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

interface Counts {
  tried: number;
  loaded: number;
  named: number;
  internal: string[];
  crashes: string[];
  hangs: number;
}

async function fuzz(kind: string, folder: string, configPath: string, file: string, original: Buffer, mutate: (b: Buffer, r: () => number) => Buffer, seed: number): Promise<Counts> {
  const r = rng(seed);
  const counts: Counts = { tried: 0, loaded: 0, named: 0, internal: [], crashes: [], hangs: 0 };
  const c = new EngineClient(engineJs, () => {}, { memoryBudget: 256 * 1024 * 1024 });
  const hostPid = process.pid;
  try {
    for (let i = 0; i < CASES_PER_KIND; i++) {
      writeFileSync(join(folder, file), mutate(original, r));
      counts.tried++;
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<'hang'>((res) => (timer = setTimeout(() => res('hang'), CASE_LIMIT_MS)));
      const outcome = await Promise.race([c.request({ kind: 'load', configPath, input: { ids: [1, 2, 3] } }).then(() => 'loaded' as const, (e: unknown) => e), limit]);
      clearTimeout(timer);
      if (outcome === 'loaded') counts.loaded++;
      else if (outcome === 'hang') {
        counts.hangs++;
        c.dispose();
        break;
      } else if (outcome instanceof EngineError && outcome.kind === 'user') {
        counts.named++;
        if (process.env.TI_FUZZ_SHOW) console.log(`  ${kind} #${i}: ${outcome.describe().slice(0, 160)}`);
      }
      else if (outcome instanceof EngineError && outcome.kind === 'crash') counts.crashes.push(`${kind} #${i}: ${outcome.message}`);
      else counts.internal.push(`${kind} #${i}: ${outcome instanceof Error ? outcome.message : String(outcome)}`);
    }
  } finally {
    c.dispose();
  }
  assert.equal(process.pid, hostPid);
  console.log(`fuzz ${kind}: ${counts.tried} cases, ${counts.named} named errors, ${counts.loaded} loaded, ${counts.internal.length} internal, ${counts.crashes.length} crashes, ${counts.hangs} hangs`);
  return counts;
}

function folderOf(name: string, from: string, files: string[]): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (const f of files) copyFileSync(join(from, f), join(d, f));
  return d;
}

function check(c: Counts): void {
  assert.deepEqual(c.internal, [], 'no internal error (stack trace)');
  assert.deepEqual(c.crashes, [], 'no engine process crash');
  assert.equal(c.hangs, 0, 'no case past the time limit');
  assert.equal(c.loaded + c.named, c.tried);
  assert.ok(c.named > c.tried / 4, 'most mutations are caught');
}

const HF_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

test('mutated safetensors headers', async () => {
  const d = folderOf('st', gpt2, HF_FILES);
  check(await fuzz('safetensors', d, join(d, 'config.json'), 'model.safetensors', readFileSync(join(gpt2, 'model.safetensors')), mutateSafetensors, SEED));
});

test('mutated shard indexes', async () => {
  const d = folderOf('idx', gpt2, ['config.json', 'tokenizer.json', 'tokenizer_config.json']);
  copyFileSync(join(gpt2, 'model.safetensors'), join(d, 'model-00001-of-00001.safetensors'));
  const names = Object.keys(JSON.parse(readFileSync(join(gpt2, 'model.safetensors')).subarray(8, 8 + Number(readFileSync(join(gpt2, 'model.safetensors')).readBigUInt64LE(0))).toString()) as object).filter((n) => n !== '__metadata__');
  const index = Buffer.from(JSON.stringify({ metadata: { total_size: 1 }, weight_map: Object.fromEntries(names.map((n) => [n, 'model-00001-of-00001.safetensors'])) }));
  check(await fuzz('index', d, join(d, 'config.json'), 'model.safetensors.index.json', index, (b, r) => Buffer.from(mutateJsonText(b.toString(), r)), SEED + 1));
});

test('mutated configs (Hugging Face and native)', async () => {
  const hf = folderOf('cfg', gpt2, HF_FILES);
  check(await fuzz('config.json', hf, join(hf, 'config.json'), 'config.json', readFileSync(join(gpt2, 'config.json')), (b, r) => Buffer.from(mutateJsonText(b.toString(), r)), SEED + 2));
  const native = folderOf('native', tutorial, ['tutorial.transformer.json', 'tutorial.safetensors']);
  const cfg = join(native, 'tutorial.transformer.json');
  check(await fuzz('transformer.json', native, cfg, 'tutorial.transformer.json', readFileSync(cfg), (b, r) => Buffer.from(mutateJsonText(b.toString(), r)), SEED + 3));
});

test('mutated tokenizer files', async () => {
  const d = folderOf('tok', gpt2, HF_FILES);
  check(await fuzz('tokenizer.json', d, join(d, 'config.json'), 'tokenizer.json', readFileSync(join(gpt2, 'tokenizer.json')), (b, r) => Buffer.from(mutateJsonText(b.toString(), r)), SEED + 4));
});
