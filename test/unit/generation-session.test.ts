import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace, type Step } from '../../engine/trace/step';
import { generate } from '../../engine/model/generate';
import { Generation } from '../../engine/worker/generation';
import { Session, NO_CONTROL, type Control } from '../../engine/worker/session';
import { layerOf, stepProgress } from '../../engine/worker/layer-progress';
import { isInspectorError } from '../../engine/errors';
import type { Generated, Loaded } from '../../protocol/worker';
import { assertClose } from '../helpers/close';

const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');
const TINY_LLAMA = path.resolve(__dirname, '..', '..', 'examples', 'tiny-llama');

/** The last entry along a step's position axis (`pos` or `query_pos`): [1, …, T, …] → [1, …, 1, …]. */
function lastPosition(step: Step): Float32Array {
  const axis = step.dims.findIndex((d) => d === 'pos' || d === 'query_pos');
  assert.ok(axis > 0, `${step.name} has a position axis`);
  const shape = step.tensor.shape;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const T = shape[axis];
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) out.set(step.tensor.data.subarray((o * T + T - 1) * inner, (o * T + T) * inner), o * inner);
  return out;
}

// GPT-2 (learned positions), Llama with grouped-query attention (4 heads, 2 KV heads) and Mistral's
// sliding window (3) shorter than the sequence: every hook of a generated position = the full re-run's last row.
for (const family of ['gpt2', 'llama', 'mistral']) {
  test(`${family}: every hook of a generated position equals the full re-run's last row`, () => {
    const { model, spec } = loadModel(path.join(HF, family));
    const prompt = [5, 41, 17, 99 % spec.vocabSize];
    const g = Generation.prefill(model, prompt, NO_CONTROL)!;
    let traced = g.append(1, { kind: 'greedy' }, NO_CONTROL)!;
    traced = g.append(2, { kind: 'greedy' }, NO_CONTROL)!; // two more: the last one is traced
    assert.equal(traced.position, prompt.length + 2);
    assert.deepEqual(g.ids.slice(0, prompt.length), prompt);
    const full = runTrace(model.forward({ ids: [g.ids] }));
    assert.deepEqual(
      traced.steps.map((s) => s.name),
      full.steps.map((s) => s.name),
      'the same hooks fire',
    );
    const T = g.ids.length;
    for (let i = 0; i < full.steps.length; i++) {
      const s = traced.steps[i];
      const axis = s.dims.findIndex((d) => d === 'pos' || d === 'query_pos');
      assert.equal(s.tensor.shape[axis], 1, `${s.name}: one position`);
      if (s.dims.includes('key_pos')) assert.equal(s.tensor.shape.at(-1), T, `${s.name}: one row over all ${T} keys`);
      assertClose(s.tensor.data, lastPosition(full.steps[i]), 1e-5, `${family} ${s.name}`);
    }
    // The cache taken from a finished pass's hooks (no second prefill) gives the very same steps.
    const pass = runTrace(model.forward({ ids: [prompt] }));
    const fromPass = Generation.fromPass(model, prompt, pass.steps, pass.result)!;
    assert.ok(fromPass, 'every layer keeps its keys and values in the trace');
    assert.equal(fromPass.cacheBytes, Generation.prefill(model, prompt, NO_CONTROL)!.cacheBytes);
    const again = fromPass.append(3, { kind: 'greedy' }, NO_CONTROL)!;
    assert.deepEqual(fromPass.ids, g.ids);
    again.steps.forEach((s, i) => assert.deepEqual(s.tensor.data, traced.steps[i].tensor.data, `${family} ${s.name} from the pass's cache`));
    // The greedy tokens are the ones the CLI's generate (KV cache) appends.
    const cli = generate(model, prompt, { maxNewTokens: 3, sampling: { kind: 'greedy' } });
    assert.deepEqual(g.ids, cli.ids);
    // An earlier generated position, traced again over the keys it saw, equals its own re-run's last row.
    const earlier = g.trace(prompt.length, NO_CONTROL)!;
    const fullEarlier = runTrace(model.forward({ ids: [g.ids.slice(0, prompt.length + 1)] }));
    for (let i = 0; i < fullEarlier.steps.length; i++) {
      assertClose(earlier.steps[i].tensor.data, lastPosition(fullEarlier.steps[i]), 1e-5, `${family} earlier ${earlier.steps[i].name}`);
    }
  });
}

test('a generation cancelled mid-token keeps the cache as it was: the next try gives the same token', () => {
  const { model } = loadModel(path.join(HF, 'llama'));
  const prompt = [3, 17, 42];
  const g = Generation.prefill(model, prompt, NO_CONTROL)!;
  let polls = 0;
  const cancelSoon: Control = { cancelled: () => ++polls > 10, progress: () => {} };
  assert.equal(g.append(1, { kind: 'greedy' }, cancelSoon), undefined, 'cancelled before the token was complete');
  assert.deepEqual(g.ids, prompt);
  g.append(3, { kind: 'greedy' }, NO_CONTROL);
  assert.deepEqual(g.ids, generate(model, prompt, { maxNewTokens: 3, sampling: { kind: 'greedy' } }).ids);
});

test('top-k sampling with a seed is reproducible and reports the probability of each token', () => {
  const { model } = loadModel(path.join(HF, 'gpt2'));
  const sampling = { kind: 'top_k', k: 5, temperature: 1.5, seed: 11 } as const;
  const a = Generation.prefill(model, [5, 6], NO_CONTROL)!;
  a.append(4, sampling, NO_CONTROL);
  const b = Generation.prefill(model, [5, 6], NO_CONTROL)!;
  for (let i = 0; i < 4; i++) b.append(1, sampling, NO_CONTROL); // one at a time: the same tokens
  assert.deepEqual(a.ids, b.ids);
  for (const t of a.tokens) assert.ok(t.prob > 0 && t.prob < 1, `p(${t.id}) = ${t.prob}`);
});

test('session: Generate Next Token appends the greedy token, walks only the new position, labels its attention row', () => {
  const s = new Session();
  const loaded = s.load(path.join(TINY_LLAMA, 'config.json'), { text: 'And God said' }, 'auto', NO_CONTROL) as Loaded;
  const T = loaded.model.ids.length;
  const r = s.handle({ kind: 'generate', at: 'blocks.2.attn.hook_pattern' }).reply as Generated;
  assert.equal(r.kind, 'generated');
  assert.equal(r.model.ids.length, T + 1);
  assert.equal(r.model.tokens[T], ' unto', 'the first prediction after “And God said”');
  assert.equal(r.model.text, 'And God said unto');
  assert.deepEqual(r.generation, { promptLength: T, shown: T, tokens: [{ position: T, id: r.model.ids[T], token: ' unto', prob: r.generation.tokens[0].prob }] });
  assert.equal(r.steps.length, loaded.steps.length, 'every hook of the new position');
  for (const st of r.steps) if (st.name.endsWith('hook_resid_post')) assert.deepEqual(st.shape, [1, 1, 128]);
  assert.equal(r.position.kind, 'step');
  const step = r.position.kind === 'step' ? r.position.step : undefined;
  assert.equal(step?.name, 'blocks.2.attn.hook_pattern', 'the cursor stays at the hook it was asked for');
  assert.equal(step?.view.kind, 'attention');
  if (step?.view.kind !== 'attention') return;
  assert.deepEqual(step.view.queryLabels, [' unto']);
  assert.deepEqual(step.view.keyLabels, r.model.tokens);
  // At the logits: the predictions are of what comes after the new token.
  const logits = s.handle({ kind: 'move', move: { to: 'end' } }).reply;
  assert.ok(logits.kind === 'moved' && logits.position.kind === 'step' && logits.position.step.predictions?.positions.length === 1);
  // A second token, then back to the first one's steps.
  const r2 = s.handle({ kind: 'generate' }).reply as Generated;
  assert.equal(r2.generation.tokens.length, 2);
  assert.equal(r2.position.kind === 'step' && r2.position.step.name, 'logits');
  const back = s.handle({ kind: 'showGenerated', position: T, at: 'blocks.2.attn.hook_pattern' }).reply as Generated;
  assert.equal(back.generation.shown, T);
  const again = back.position.kind === 'step' ? back.position.step.view : undefined;
  assert.ok(again?.kind === 'attention');
  assert.deepEqual(again.keyLabels, r.model.tokens, 'its row over the keys it saw');
  assert.deepEqual(Array.from(again.data), Array.from(step.view.data), 'the same row as when it was generated');
  // Set Input drops the cache: nothing generated is left to show.
  s.setInput({ text: 'And God said' }, NO_CONTROL);
  assert.throws(() => s.handle({ kind: 'showGenerated', position: T }), (e) => isInspectorError(e) && /Generate Next Token first/.test(e.message));
});

test('session: Generate Next Token refuses an encoder and reports layer i of N while it computes', () => {
  const s = new Session();
  s.load(path.join(HF, 'bert'), undefined, 'auto', NO_CONTROL);
  assert.throws(() => s.handle({ kind: 'generate' }), (e) => isInspectorError(e) && /decoder-only/.test(e.message));
  const messages: string[] = [];
  const llama = new Session();
  llama.load(path.join(HF, 'llama'), { ids: [1, 2, 3] }, 'auto', NO_CONTROL);
  llama.handle({ kind: 'generate' }, { cancelled: () => false, progress: (m) => messages.push(m) });
  assert.ok(messages.includes('Computing the new token: layer 2 of 2'), messages.join('\n'));
  assert.equal(layerOf('decoder.blocks.0.attn.hook_q', 6, 3), 'decoder layer 1 of 3');
  assert.equal(stepProgress('logits', 40, 2), 'logits (step 41)');
});

test('loading says which layer it reads: Reading the weights: layer i of N (the load notification and the CLI)', () => {
  const messages: string[] = [];
  const { model } = loadModel(path.join(HF, 'llama'), { progress: (m) => messages.push(m) });
  assert.deepEqual(messages, ['Reading the weights: layer 1 of 2', 'Reading the weights: layer 2 of 2']);
  const plain = loadModel(path.join(HF, 'llama'));
  const ids = [[3, 17, 42]];
  assert.deepEqual(runTrace(model.forward({ ids })).result.data, runTrace(plain.model.forward({ ids })).result.data, 'the same weights read');
  const s = new Session();
  const seen: string[] = [];
  s.load(path.join(HF, 'gpt2'), undefined, 'auto', { cancelled: () => false, progress: (m) => seen.push(m) });
  assert.ok(seen.includes('Reading the weights: layer 1 of 2'), seen.join('\n'));
  assert.ok(seen.some((m) => /^Computing layer 2 of 2: blocks\.1\./.test(m)), 'the eager forward on load says its layer too');
});
