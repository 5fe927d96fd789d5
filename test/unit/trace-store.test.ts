/**
 * The trace store (engine/trace/store.ts): with a budget far below the whole trace, every hook of every
 * layer, visited in random order, is bitwise the tensor (and mask) of an unbounded run; a visit to an
 * evicted layer recomputes that block only, never the prefix; stepping back after an eviction recomputes
 * only the layer stepped into; the bytes held stay within the budget plus one layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nativeSpecFromJson } from '../../engine/config/native';
import { buildNativeModel } from '../../engine/model/native';
import { loadModel } from '../../engine/model/load';
import type { ModelInput, TransformerModel } from '../../engine/model/transformer';
import { Stepper } from '../../engine/trace/stepper';
import { runTrace, type Step } from '../../engine/trace/step';
import { boundedForward } from '../../engine/trace/store';
import { layerOf, layerPath } from '../../engine/trace/replay';
import type { Block } from '../../engine/nn/block';
import type { JsonObject } from '../../engine/config/json';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function shuffled(n: number, seed: number): number[] {
  const r = rng(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Bytes of each layer's own steps (not its resid_pre) in an unbounded run, arrays counted once. */
function layerBytes(steps: readonly Step[]): { pinned: number; largestLayer: number; allLayers: number } {
  const seen = new Set<ArrayBufferView>();
  const perLayer = new Map<string, number>();
  let pinned = 0;
  const count = (a: ArrayBufferView): number => (seen.has(a) ? 0 : (seen.add(a), a.byteLength));
  // Pinned first, so a resid_post shared with the next resid_pre counts as pinned; so is the encoder output.
  const encoderOutput = steps.findIndex((s) => s.name.startsWith('decoder.')) - 1;
  steps.forEach((s, i) => {
    if (!layerOf(s.name) || s.name.endsWith('.hook_resid_pre') || i === encoderOutput)
      pinned += count(s.tensor.data);
  });
  for (const s of steps) {
    const k = layerOf(s.name);
    if (!k || s.name.endsWith('.hook_resid_pre')) continue;
    const p = layerPath(k);
    perLayer.set(p, (perLayer.get(p) ?? 0) + count(s.tensor.data) + (s.mask ? count(s.mask.data) : 0));
  }
  return {
    pinned,
    largestLayer: Math.max(...perLayer.values()),
    allLayers: [...perLayer.values()].reduce((a, b) => a + b, 0),
  };
}

/** Visit every step in a random order under `budget` and compare each with the unbounded run, bit for bit. */
function visitAll(
  model: TransformerModel,
  input: ModelInput,
  budgetOf: (b: { pinned: number; largestLayer: number }) => number,
  seed = 1,
): void {
  const full = runTrace(model.forward(input));
  const sizes = layerBytes(full.steps);
  const budget = budgetOf(sizes);
  const { trace, store } = boundedForward(model, input, budget);
  const s = new Stepper(trace);
  s.runToEnd();
  assert.equal(s.steps.length, full.steps.length);
  assert.ok(store.heldBytes < sizes.pinned + sizes.allLayers, 'layers were evicted during the pass');
  for (const i of shuffled(full.steps.length, seed)) {
    const got = s.goTo(i)!;
    const want = full.steps[i];
    assert.equal(got.name, want.name);
    assert.deepEqual(got.tensor.shape, want.tensor.shape);
    assert.ok(
      bytesOf(got.tensor.data).equals(bytesOf(want.tensor.data)),
      `${want.name} differs from the unbounded run`,
    );
    assert.equal(got.mask !== undefined, want.mask !== undefined, `${want.name}: mask`);
    if (want.mask)
      assert.ok(bytesOf(got.mask!.data).equals(bytesOf(want.mask.data)), `${want.name}: mask differs`);
    assert.equal(got.observed, want.observed);
  }
  assert.ok(store.layersRecomputed > 0, 'a layer was recomputed');
  assert.ok(
    store.peakBytes <= Math.max(budget, sizes.pinned + sizes.largestLayer) + sizes.largestLayer,
    `held ${store.peakBytes} with a budget of ${budget} (+ ${sizes.largestLayer} one layer)`,
  );
  // With room for the kept steps and a layer, room is made before a step is kept or a layer replayed:
  // the budget holds.
  if (budget >= sizes.pinned + sizes.largestLayer)
    assert.ok(store.peakBytes <= budget, `held ${store.peakBytes} with a budget of ${budget}`);
  assert.ok(bytesOf(s.result!.data).equals(bytesOf(full.result.data)));
}

const decoderSpec = nativeSpecFromJson({
  architecture: 'decoder',
  vocab_size: 64,
  d_model: 32,
  num_heads: 4,
  num_kv_heads: 2,
  d_ff: 64,
  num_layers: 4,
  max_len: 64,
  positional: 'rope',
  pad_token_id: 0,
});

test('native decoder (GQA, RoPE, padding): every hook in random order is bitwise the unbounded run', () => {
  const model = buildNativeModel(decoderSpec);
  const input = { ids: [[5, 9, 0, 33, 12, 7, 0, 41, 2, 3]] };
  // Room for the pinned steps and about half a layer: every layer read is a recomputation.
  visitAll(model, input, (b) => b.pinned + b.largestLayer / 2, 1);
  // Room for two layers: some reads hit, some recompute.
  visitAll(model, input, (b) => b.pinned + 2.5 * b.largestLayer, 2);
  visitAll(model, input, (b) => b.pinned + b.largestLayer, 8);
  // Not even the pinned steps fit: the store still answers every read, holding one layer.
  visitAll(model, input, () => 1, 3);
});

test('Hugging Face Llama (GQA 4/2, RoPE) and a batch of two: bitwise under a tiny budget', () => {
  const { model } = loadModel(path.join(FIXTURES, 'hf', 'llama'));
  visitAll(model, { ids: [[1, 37, 62, 35, 63, 34, 57]] }, (b) => b.pinned + b.largestLayer / 3, 4);
  visitAll(
    model,
    {
      ids: [
        [1, 37, 62, 35],
        [9, 8, 7, 6],
      ],
      attentionMask: [
        [1, 1, 1, 1],
        [0, 1, 1, 1],
      ],
    },
    (b) => b.pinned + b.largestLayer,
    5,
  );
});

test('encoder-decoder (Marian, post-norm, padding) replays decoder blocks with the kept encoder output', () => {
  const { model } = loadModel(path.join(FIXTURES, 'hf', 'marian'));
  // Decoder ids start with the pad token (127), Marian's decoder start: the padding rule is replayed too.
  visitAll(
    model,
    { ids: [[118, 60, 11, 25, 21, 0]], decoderIds: [[127, 36, 99, 78, 11]] },
    (b) => b.pinned + b.largestLayer / 2,
    6,
  );
  const native = buildNativeModel(
    nativeSpecFromJson({
      architecture: 'encoder-decoder',
      vocab_size: 40,
      tgt_vocab_size: 48,
      d_model: 16,
      num_heads: 4,
      d_ff: 32,
      num_layers: 2,
      num_decoder_layers: 3,
      max_len: 32,
      pad_token_id: 0,
    }),
  );
  visitAll(native, { ids: [[3, 4, 5, 0, 0]], decoderIds: [[1, 7, 9]] }, () => 1, 7);
});

/** Count each block's forward calls and the embedding's, on this model instance. */
function spy(model: TransformerModel): { blocks: Map<string, number>; embeds: () => number } {
  const blocks = new Map<string, number>();
  for (const b of model.main.stack.blocks as Block[]) {
    const forward = b.forward.bind(b);
    blocks.set(b.path, 0);
    b.forward = function* (x, ctx) {
      blocks.set(b.path, blocks.get(b.path)! + 1);
      return yield* forward(x, ctx);
    };
  }
  let embeds = 0;
  const token = model.main.embed.token;
  const embed = token.forward.bind(token);
  token.forward = (ids) => {
    embeds++;
    return embed(ids);
  };
  return { blocks, embeds: () => embeds };
}

test('a visit to an evicted layer recomputes that block only; stepping back recomputes only the layer stepped into', () => {
  const model = buildNativeModel(decoderSpec);
  const calls = spy(model);
  const input = { ids: [[5, 9, 14, 33, 12, 7, 19, 41]] };
  const full = runTrace(model.forward(input));
  const { trace, store } = boundedForward(model, input, 1);
  const s = new Stepper(trace);
  s.runToEnd();
  const once = () => [...calls.blocks.values()];
  assert.deepEqual(once(), [2, 2, 2, 2], 'the unbounded run and the recorded pass ran each block once');
  assert.equal(calls.embeds(), 2);
  assert.equal(store.layersRecomputed, 0, 'the pass itself recomputes nothing');
  assert.deepEqual(store.residentLayers, [], 'with no room, no layer is held once the pass is past it');

  // Jump back to a hook of layer 1: block 1 runs again, nothing before it.
  const target = full.steps.findIndex((x) => x.name === 'blocks.1.mlp.hook_post');
  const layer1Steps = full.steps.filter((x) => x.name.startsWith('blocks.1.')).length;
  const got = s.goTo(target)!;
  assert.ok(bytesOf(got.tensor.data).equals(bytesOf(full.steps[target].tensor.data)));
  assert.deepEqual(once(), [2, 3, 2, 2]);
  assert.equal(calls.embeds(), 2, 'the embeddings are not recomputed');
  assert.equal(store.layersRecomputed, 1);
  assert.ok(
    store.stepsRecomputed <= layer1Steps,
    `${store.stepsRecomputed} steps recomputed, layer 1 has ${layer1Steps}`,
  );
  // Reading more of layer 1 recomputes nothing while it is held.
  s.previous();
  void s.current!.tensor.data;
  assert.equal(store.layersRecomputed, 1);

  // Step back from layer 1's first step into layer 0 (evicted): layer 0 only.
  const firstOf1 = full.steps.findIndex((x) => x.name === 'blocks.1.hook_resid_pre');
  s.goTo(firstOf1);
  void s.current!.tensor.data; // resid_pre is kept: no recomputation
  assert.equal(store.layersRecomputed, 1);
  // Its resid_post is the same array as blocks.1's resid_pre, kept: still nothing recomputed.
  const post = s.previous()!;
  assert.equal(post.name, 'blocks.0.hook_resid_post');
  assert.ok(bytesOf(post.tensor.data).equals(bytesOf(full.steps[firstOf1 - 1].tensor.data)));
  assert.equal(store.layersRecomputed, 1);
  const back = s.previous()!;
  assert.equal(back.name, full.steps[firstOf1 - 2].name);
  assert.ok(bytesOf(back.tensor.data).equals(bytesOf(full.steps[firstOf1 - 2].tensor.data)));
  assert.deepEqual(once(), [3, 3, 2, 2]);
  assert.equal(store.layersRecomputed, 2);
  assert.equal(calls.embeds(), 2);
  // Listing the steps and their shapes (the panel's summaries) recomputes nothing.
  const shapes = s.steps.map((x) => x.tensor.shape);
  assert.equal(shapes.length, full.steps.length);
  assert.equal(store.layersRecomputed, 2);
});

test('reading a layer while the pass is still inside a later one recomputes only the steps recorded so far', () => {
  const model = buildNativeModel(decoderSpec);
  const input = { ids: [[5, 9, 14, 33, 12, 7]] };
  const full = runTrace(model.forward(input));
  const { trace, store } = boundedForward(model, input, 1);
  const s = new Stepper(trace);
  const inside = full.steps.findIndex((x) => x.name === 'blocks.2.attn.hook_pattern');
  s.goTo(inside);
  // Back into layer 1: layer 2 (the pass is in it) is evicted to make room.
  const l1 = full.steps.findIndex((x) => x.name === 'blocks.1.hook_attn_out');
  assert.ok(bytesOf(s.goTo(l1)!.tensor.data).equals(bytesOf(full.steps[l1].tensor.data)));
  // Forward again: layer 2's recorded steps come back from a partial replay, the pass goes on from where it was.
  for (let i = l1; i < full.steps.length; i++) {
    const step = s.goTo(i)!;
    assert.equal(step.name, full.steps[i].name);
    assert.ok(bytesOf(step.tensor.data).equals(bytesOf(full.steps[i].tensor.data)), full.steps[i].name);
    if (full.steps[i].mask) assert.ok(bytesOf(step.mask!.data).equals(bytesOf(full.steps[i].mask!.data)));
  }
  assert.equal(s.steps.length, full.steps.length);
  assert.ok(store.layersRecomputed >= 2);
});

test('a recorded pass takes no replacements', () => {
  const model = buildNativeModel(decoderSpec);
  const { trace } = boundedForward(model, { ids: [[1, 2, 3]] }, Infinity);
  const first = trace.next();
  assert.ok(!first.done);
  assert.throws(() => trace.next(first.value.tensor), /takes no replacements/);
});

test('every Hugging Face fixture (GPT-2, BERT with token types and a mask, Gemma, Mistral, Qwen2, DeepSeek MLA/MoE, 16-bit Llama): bitwise under a tiny budget', () => {
  const dirs = fs
    .readdirSync(path.join(FIXTURES, 'hf'))
    .filter((d) => fs.existsSync(path.join(FIXTURES, 'hf', d, 'input.json')));
  assert.ok(dirs.length >= 12, dirs.join(', '));
  dirs.forEach((d, i) => {
    const dir = path.join(FIXTURES, 'hf', d);
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8')) as {
      input_ids: number[][];
      decoder_input_ids?: number[][];
      token_type_ids?: number[][];
      attention_mask?: number[][];
    };
    const input: ModelInput = {
      ids: j.input_ids,
      ...(j.decoder_input_ids ? { decoderIds: j.decoder_input_ids } : {}),
      ...(j.token_type_ids ? { tokenTypeIds: j.token_type_ids } : {}),
      ...(j.attention_mask ? { attentionMask: j.attention_mask } : {}),
    };
    visitAll(loadModel(dir).model, input, (b) => b.pinned + b.largestLayer / 2, 100 + i);
  });
});

test('native variants (flash attention, sliding-window and strided masks, post-norm encoder, latent bottleneck, shared layers): bitwise under a tiny budget', () => {
  const base = { vocab_size: 48, d_model: 16, num_heads: 4, d_ff: 32, num_layers: 3, max_len: 32 };
  const variants: JsonObject[] = [
    { ...base, architecture: 'decoder', positional: 'rope', attention_impl: 'flash' },
    {
      ...base,
      architecture: 'decoder',
      positional: 'rope',
      masks: [
        { kind: 'sliding_window', window: 3 },
        { kind: 'strided', stride: 2 },
      ],
    },
    { ...base, architecture: 'encoder', norm_placement: 'post', pad_token_id: 0 },
    { ...base, architecture: 'encoder', attention: 'latent_bottleneck', num_latents: 3 },
    { ...base, architecture: 'decoder', shared_layers: true, ffn: 'swiglu' },
  ];
  variants.forEach((v, i) => {
    const model = buildNativeModel(nativeSpecFromJson(v));
    visitAll(model, { ids: [[4, 9, 0, 17, 3, 22, 0, 5, 11]] }, () => 1, 200 + i);
  });
});
