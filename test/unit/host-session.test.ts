import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session, checkInput, defaultInput, type Control } from '../../engine/worker/session';
import type { Loaded, Moved } from '../../protocol/worker';
import { isInspectorError } from '../../engine/errors';

const tutorial = { vocab_size: 32, d_model: 16, num_heads: 2, d_ff: 32, num_layers: 2, max_len: 16, dropout: 0.1 };

function withConfig(json: object, fn: (path: string) => void, name = 'm.transformer.json'): void {
  const dir = mkdtempSync(join(tmpdir(), 'session-'));
  try {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(json));
    fn(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('load computes a small model eagerly and starts before the first step', () => {
  withConfig(tutorial, (p) => {
    const s = new Session();
    const r = s.load(p, undefined, 'auto', { cancelled: () => false, progress: () => {} }) as Loaded;
    assert.equal(r.model.seeded, true);
    assert.match(r.model.weights, /seeded random weights/);
    assert.deepEqual(r.model.ids, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(r.model.tokens, ['1', '2', '3', '4', '5', '6', '7', '8']);
    assert.equal(r.steps[0].name, 'hook_embed');
    assert.equal(r.steps.at(-1)?.name, 'logits');
    assert.deepEqual(r.position, { kind: 'before', computed: r.steps.length, done: true });
    assert.equal(r.tree.parameters, r.model.parameterCount, 'tree counts add up to the engine total');
    assert.deepEqual(r.limits, { architecture: 'encoder', vocabSize: 32, decoderVocabSize: 32, maxLen: 16 });
  });
});

test('moves: next, previous, hook, module, index, end, start', () => {
  withConfig(tutorial, (p) => {
    const s = new Session();
    s.load(p, { ids: [3, 1, 4] }, 'auto', { cancelled: () => false, progress: () => {} });
    const at = (m: Moved) => (m.position.kind === 'step' ? m.position.step : undefined);
    const first = at(s.move({ to: 'next' }, noControl));
    assert.equal(first?.name, 'hook_embed');
    assert.equal(first?.index, 0);
    assert.deepEqual(first?.breadcrumb, ['Encoder', 'Embeddings', 'Token embedding']);
    assert.equal(first?.view.kind, 'matrix');
    assert.deepEqual(first?.view.kind === 'matrix' && first.view.rowLabels, ['3', '1', '4']);
    const pattern = at(s.move({ to: 'hook', name: 'blocks.1.attn.hook_pattern' }, noControl));
    assert.equal(pattern?.view.kind, 'attention');
    assert.deepEqual(pattern?.breadcrumb, ['Encoder', 'Block 1', 'Attention', 'Pattern']);
    assert.match(pattern?.explanation ?? '', /softmax\(QKᵀ\/√d_k \+ mask\) per head: row i is where query token i looks/);
    if (pattern?.view.kind === 'attention') {
      assert.equal(pattern.view.heads, 2);
      assert.equal(pattern.view.queries, 3);
      const rowSum = pattern.view.data.subarray(0, 3).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(rowSum - 1) < 1e-5, 'a pattern row sums to 1');
    }
    const mlp = at(s.move({ to: 'module', path: 'blocks.0.mlp', prefer: ['hook_post', 'hook_pre'] }, noControl));
    assert.equal(mlp?.name, 'blocks.0.mlp.hook_post');
    const block = at(s.move({ to: 'module', path: 'blocks.0', prefer: ['hook_resid_post'] }, noControl));
    assert.equal(block?.name, 'blocks.0.hook_resid_post');
    assert.equal(at(s.move({ to: 'previous' }, noControl))?.name, 'blocks.0.hook_mlp_out');
    assert.equal(at(s.move({ to: 'index', index: 1 }, noControl))?.name, 'hook_pos_embed');
    const end = at(s.move({ to: 'end' }, noControl));
    assert.equal(end?.name, 'logits');
    assert.equal(end?.done, true);
    assert.equal(at(s.move({ to: 'next' }, noControl))?.name, 'logits', 'next at the end stays on the last step');
    assert.equal(s.move({ to: 'start' }, noControl).position.kind, 'before');
    assert.throws(() => s.move({ to: 'hook', name: 'blocks.7.hook_resid_pre' }, noControl), /no step named/);
    assert.throws(() => s.move({ to: 'index', index: 10_000 }, noControl), /there is no step 10000/);
  });
});

test('a cancelled run-to-end stops between steps and says so', () => {
  const big = { ...tutorial, d_model: 512, num_heads: 4, d_ff: 2048, num_layers: 4, vocab_size: 5000, max_len: 64 };
  withConfig(big, (p) => {
    const s = new Session();
    // 2 · params · 8 tokens is over the eager budget: nothing is computed on load
    const loaded = s.load(p, undefined, 'auto', noControl) as Loaded;
    assert.equal(loaded.steps.length, 0);
    let checks = 0;
    const control: Control = { cancelled: () => ++checks > 5, progress: () => {} };
    const r = s.move({ to: 'end' }, control);
    assert.equal(r.cancelled, true);
    assert.equal(r.position.kind === 'step' && r.position.step.done, false);
    assert.equal(r.steps?.length, 5, 'five steps computed before the cancel was seen');
    const later = s.move({ to: 'end' }, noControl);
    assert.equal(later.position.kind === 'step' && later.position.step.name, 'logits');
  });
});

test('setInput checks ids against the vocabulary and max_len, and restarts the pass', () => {
  withConfig(tutorial, (p) => {
    const s = new Session();
    s.load(p, undefined, 'auto', noControl);
    s.move({ to: 'next' }, noControl);
    const r = s.setInput({ ids: [5, 7, 11, 13] }, noControl);
    assert.deepEqual(r.model.tokens, ['5', '7', '11', '13']);
    assert.equal(r.position.kind, 'before');
    assert.throws(() => s.setInput({ ids: [32] }, noControl), (e) => isInspectorError(e) && /outside the vocabulary \(0 … 31\)/.test(e.message));
    assert.throws(() => s.setInput({ ids: Array(17).fill(1) }, noControl), /more than max_len \(16\)/);
    assert.throws(() => s.setInput({ ids: [] }, noControl), /at least one token/);
    assert.throws(() => s.setInput({ ids: [1], decoderIds: [1] }, noControl), /only to encoder-decoder/);
  });
});

test('encoder-decoder: decoder tokens label decoder steps, encoder tokens the cross-attention keys', () => {
  withConfig({ ...tutorial, architecture: 'encoder-decoder' }, (p) => {
    const s = new Session();
    const r = s.load(p, { ids: [1, 2, 3], decoderIds: [4, 5] }, 'auto', noControl) as Loaded;
    assert.deepEqual(r.model.decoderTokens, ['4', '5']);
    const m = s.move({ to: 'hook', name: 'decoder.blocks.0.cross_attn.hook_pattern' }, noControl);
    if (m.position.kind !== 'step' || m.position.step.view.kind !== 'attention') throw new Error('attention step expected');
    assert.deepEqual(m.position.step.view.queryLabels, ['4', '5']);
    assert.deepEqual(m.position.step.view.keyLabels, ['1', '2', '3']);
    assert.deepEqual(m.position.step.breadcrumb, ['Decoder', 'Block 0', 'Cross-attention', 'Pattern']);
    const k = s.move({ to: 'hook', name: 'decoder.blocks.0.cross_attn.hook_k' }, noControl);
    assert.deepEqual(k.position.kind === 'step' && k.position.step.view.kind === 'matrix' && k.position.step.view.rowLabels, ['1', '2', '3']);
    const self = s.move({ to: 'hook', name: 'decoder.blocks.0.attn.hook_pattern' }, noControl);
    if (self.position.kind !== 'step' || self.position.step.view.kind !== 'attention') throw new Error('attention step expected');
    assert.deepEqual([...(self.position.step.view.mask ?? [])], [1, 0, 1, 1], 'the causal mask comes along');
    assert.throws(() => checkInput({ ids: [1] }, r.limits), /decoder ids: give at least one/);
    assert.deepEqual(defaultInput(r.limits).decoderIds?.length, 8);
  });
});

test('export: the whole current tensor as .npy or JSON; nothing before the first step', () => {
  withConfig(tutorial, (p) => {
    const s = new Session();
    s.load(p, { ids: [1, 2] }, 'auto', noControl);
    assert.throws(() => s.exportCurrent('npy'), /step forward first/);
    s.move({ to: 'hook', name: 'blocks.0.attn.hook_q' }, noControl);
    const npy = s.exportCurrent('npy');
    assert.deepEqual(npy.shape, [1, 2, 2, 8]);
    assert.equal(npy.bytes[0], 0x93);
    const json = JSON.parse(new TextDecoder().decode(s.exportCurrent('json').bytes)) as { data: number[]; dims: string[] };
    assert.equal(json.data.length, 32);
    assert.deepEqual(json.dims, ['batch', 'pos', 'head_index', 'd_head']);
  });
});

test('a Hugging Face config too large to run is refused before anything is allocated; its breakdown still comes', () => {
  const llama = resolve('examples/hf/llama-2-7b/config.json');
  const s = new Session();
  const t0 = Date.now();
  assert.throws(() => s.load(llama, undefined, 'auto', noControl), (e) => isInspectorError(e) && /6\.74 B parameters: too large to run/.test(e.message));
  assert.ok(Date.now() - t0 < 2000, 'refused by arithmetic, not by running out of memory');
  assert.throws(() => s.move({ to: 'next' }, noControl), /no model is loaded/);
  const info = s.params(llama);
  assert.equal(info.totals[0].count, '6738415616');
  assert.ok(info.kvCacheBytesPerToken, 'a decoder has a KV cache');
  assert.ok(info.memory.some((m) => m.dtype.startsWith('fp16')));
});

test('a small Hugging Face GPT-2 with tokenizer.json: token labels, text input, and the engine count beside the analysis', () => {
  const gpt2 = resolve('test/fixtures/hf/gpt2/config.json');
  const s = new Session();
  const r = s.load(gpt2, undefined, 'auto', noControl) as Loaded;
  assert.equal(r.model.family, 'gpt2');
  assert.equal(r.model.seeded, false);
  assert.ok(r.limits.tokenizer?.endsWith('tokenizer.json'));
  assert.equal(r.model.tokens.length, r.model.ids.length);
  const t = s.setInput({ text: 'hello' }, noControl);
  assert.ok(t.model.ids.length > 0);
  assert.equal(t.model.tokens.join(''), 'hello', 'labels are the decoded token texts');
  assert.throws(() => s.setInput({ ids: [1], text: 'x' }, noControl), /not both/);
  const info = s.params();
  const engine = info.totals.find((x) => x.label === 'Allocated by the engine');
  assert.equal(engine?.count, String(r.model.parameterCount));
  assert.match(engine?.note ?? '', /the same as the analysis/);
});

test('text input without a tokenizer says to give ids', () => {
  withConfig(tutorial, (p) => {
    const s = new Session();
    s.load(p, undefined, 'auto', noControl);
    assert.throws(() => s.setInput({ text: 'hello' }, noControl), /needs a tokenizer\.json beside the config/);
  });
});

test('params: the tree and totals of the analysis, the engine count beside them', () => {
  withConfig({ ...tutorial, tie_embeddings: true }, (p) => {
    const s = new Session();
    const r = s.load(p, undefined, 'auto', noControl) as Loaded;
    const info = s.params();
    assert.equal(info.totals[0].count, String(r.model.parameterCount));
    assert.equal(info.rows.length, 1);
    assert.ok((info.rows[0].children ?? []).length >= 3);
    assert.equal(info.kvCacheBytesPerToken, undefined, 'an encoder keeps no KV cache');
    assert.deepEqual(info.memory.map((m) => m.dtype).slice(0, 3), ['fp32', 'fp16', 'bf16']);
  });
});

const noControl: Control = { cancelled: () => false, progress: () => {} };
