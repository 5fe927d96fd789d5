import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runGenerate } from '../../engine/cli/generate';
import { runModelBench } from '../../engine/cli/bench-model';
import { generate } from '../../engine/model/generate';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { runTraceWithProgress } from '../../engine/cli/progress';

const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');

function capture(run: (out: (s: string) => void) => number): string[] {
  const lines: string[] = [];
  assert.equal(run((s) => lines.push(s)), 0);
  return lines;
}

test('generate --json: the prompt, the new ids (greedy, as generate() picks them) and ms per token', () => {
  const dir = path.join(HF, 'gpt2');
  const [line] = capture((out) => runGenerate([dir, '--ids', '5,6,7', '--max-new-tokens', '4', '--threads', '1', '--json'], out));
  const r = JSON.parse(line) as { ids: number[]; new_tokens: number; prompt_tokens: number; ms_per_token: number; cache: boolean; text: string };
  assert.equal(r.prompt_tokens, 3);
  assert.equal(r.new_tokens, 4);
  assert.equal(r.cache, true);
  assert.ok(r.ms_per_token >= 0);
  const { model } = loadModel(dir);
  assert.deepEqual(r.ids, generate(model, [5, 6, 7], { maxNewTokens: 4, sampling: { kind: 'greedy' }, cache: false }).ids.slice(3));
  assert.equal(typeof r.text, 'string');
});

test('generate refuses bad arguments with a message', () => {
  const dir = path.join(HF, 'gpt2');
  assert.throws(() => runGenerate([dir, '--max-new-tokens', '2']), /--text or --ids/);
  assert.throws(() => runGenerate([dir, '--ids', '1', '--top-k', '2', '--temperature', '0']), /positive number/);
  assert.throws(() => runGenerate([dir, '--ids', '99999']), /outside the vocabulary/);
  assert.throws(() => runGenerate([path.join(HF, 'bert'), '--ids', '1,2']), /decoder-only/);
});

test('bench --model --json reports the keys compare.sh and the issue name', () => {
  const [line] = capture((out) => runModelBench(['--model', path.join(HF, 'llama'), '--ids', '1,2,3', '--runs', '2', '--threads', '2', '--json'], out));
  const r = JSON.parse(line) as Record<string, unknown>;
  for (const key of ['forward_ms_median', 'load_ms', 'decode_ms_per_token', 'peak_rss_bytes', 'threads', 'kernel']) assert.ok(key in r, key);
  assert.equal(r.threads, 2);
  assert.ok((r.forward_ms_median as number) > 0);
  assert.ok((r.decode_ms_per_token as number) > 0);
  assert.ok((r.peak_rss_bytes as number) > 1e6);
});

test('forward progress names each finished layer and records the same steps as runTrace', () => {
  const { model, spec } = loadModel(path.join(HF, 'gpt2'));
  const messages: string[] = [];
  const withProgress = runTraceWithProgress(model.forward({ ids: [[1, 2, 3]] }), spec.numLayers, (m) => messages.push(m), 0);
  const plain = runTrace(model.forward({ ids: [[1, 2, 3]] }));
  assert.deepEqual(withProgress.steps.map((s) => s.name), plain.steps.map((s) => s.name));
  assert.deepEqual(withProgress.result.data, plain.result.data);
  assert.deepEqual(messages.map((m) => m.replace(/ \(.*\)$/, '')), ['layer 1 of 2', 'layer 2 of 2', '']);
  const quiet: string[] = [];
  runTraceWithProgress(model.forward({ ids: [[1, 2, 3]] }), spec.numLayers, (m) => quiet.push(m), 60_000);
  assert.deepEqual(quiet, [], 'a short forward reports nothing');
});
