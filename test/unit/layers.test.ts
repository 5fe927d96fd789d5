/**
 * Unit tests per module of the original Transformer, each against an independent float64 reference,
 * and one test per classic implementation mistake showing that the wrong version is far off (so the
 * golden checks would catch it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertClose, relativeError } from '../helpers/close';
import { loadNativeCase, readExpected } from '../helpers/fixtures';
import { Tensor, swapAxes12 } from '../../engine/tensor';
import { sinusoidalTable } from '../../engine/nn/positional';
import { scaledDotProductAttention } from '../../engine/nn/attention';
import { nativeSpecFromJson } from '../../engine/config/native';
import { causalMask, combineMasks, fullMask, paddingMask, type AttentionMask } from '../../engine/nn/mask';
import { Linear } from '../../engine/nn/linear';
import { FeedForward } from '../../engine/nn/ffn';
import { LayerNorm } from '../../engine/nn/norm';
import { Block } from '../../engine/nn/block';
import { runTrace } from '../../engine/trace/step';
import { buildNativeModel } from '../../engine/model/native';
import { FileWeights } from '../../engine/model/weights';
import { SafetensorsFile, writeSafetensors } from '../../engine/io/safetensors';
import { InspectorError } from '../../engine/errors';

// ── Small deterministic inputs and float64 references ────────────────────────────────────────────

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1; // [−1, 1)
  };
}

function randTensor(shape: number[], seed: number, scale = 1): Tensor {
  const r = rng(seed);
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = r() * scale;
  return t;
}

/** The formula, written out: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)). */
function formulaPE(maxLen: number, d: number): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < maxLen; pos++) {
    for (let j = 0; j < d; j++) {
      const i = Math.floor(j / 2);
      const angle = pos / 10000 ** ((2 * i) / d);
      out.push(j % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
    }
  }
  return out;
}

function softmax(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Attention for one (b, h): q [Tq, dk], k [Tk, dk], v [Tk, dv] as nested arrays. */
function refAttention(q: number[][], k: number[][], v: number[][], scale: number, allowed?: (i: number, j: number) => boolean) {
  const scores = q.map((qi, i) => k.map((kj, j) => (allowed && !allowed(i, j) ? -1e9 : qi.reduce((s, x, c) => s + x * kj[c], 0) * scale)));
  const probs = scores.map(softmax);
  const out = probs.map((p) => v[0].map((_, c) => p.reduce((s, pj, j) => s + pj * v[j][c], 0)));
  return { scores, probs, out };
}

/** Slice [b, h] of a [B, H, T, d] tensor as nested arrays. */
function slice(t: Tensor, b: number, h: number): number[][] {
  const [, H, T, d] = t.shape;
  const off = (b * H + h) * T * d;
  return Array.from({ length: T }, (_, i) => Array.from(t.data.subarray(off + i * d, off + (i + 1) * d)));
}

function linearRef(x: number[], w: Tensor, b?: Tensor): number[] {
  const [out, inp] = w.shape;
  return Array.from({ length: out }, (_, o) => {
    let s = b ? b.data[o] : 0;
    for (let i = 0; i < inp; i++) s += x[i] * w.data[o * inp + i];
    return s;
  });
}

function rows(t: Tensor): number[][] {
  const n = t.shape[t.rank - 1];
  return Array.from({ length: t.size / n }, (_, r) => Array.from(t.data.subarray(r * n, (r + 1) * n)));
}

function layerNormRef(x: number[], g: Tensor, b: Tensor, eps: number, unbiased = false): number[] {
  const n = x.length;
  const mean = x.reduce((a, c) => a + c, 0) / n;
  const v = x.reduce((a, c) => a + (c - mean) ** 2, 0) / (unbiased ? n - 1 : n);
  return x.map((c, j) => ((c - mean) / Math.sqrt(v + eps)) * g.data[j] + b.data[j]);
}

function maskFrom(B: number, Tq: number, Tk: number, allowed: (i: number, j: number) => boolean): AttentionMask {
  const data = new Uint8Array(B * Tq * Tk);
  for (let b = 0; b < B; b++) for (let i = 0; i < Tq; i++) for (let j = 0; j < Tk; j++) data[(b * Tq + i) * Tk + j] = allowed(i, j) ? 1 : 0;
  return { batch: B, queries: Tq, keys: Tk, data };
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-test-'));
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ── Positional encoding ──────────────────────────────────────────────────────────────────────────

test('sinusoidal table follows the formula, for even and odd d_model', () => {
  for (const d of [8, 7, 3, 1]) {
    const t = sinusoidalTable(12, d);
    assert.deepEqual(t.shape, [12, d]);
    assertClose(t.data, formulaPE(12, d), 1e-6, `d_model ${d}`);
    for (let j = 0; j < d; j++) assert.equal(t.data[j], j % 2 === 0 ? 0 : 1, `position 0, column ${j}`);
  }
  // Odd d_model: the last column is a sine of the last frequency with no cosine partner.
  const t = sinusoidalTable(5, 7);
  assert.ok(Math.abs(t.data[4 * 7 + 6] - Math.sin(4 / 10000 ** (6 / 7))) < 1e-7);
});

test('mistake: concatenated sin|cos instead of interleaved is far from the tutorial buffer', () => {
  const c = loadNativeCase('tutorial_distinct');
  const pe = SafetensorsFile.open(c.weightsPath).read('pos_encoding.pe'); // PyTorch's own table
  const { maxLen, dModel } = c.loaded.spec;
  assertClose(sinusoidalTable(maxLen, dModel, 'interleaved').data, pe.data, 1e-5, 'interleaved');
  const half = sinusoidalTable(maxLen, dModel, 'half').data;
  assert.ok(relativeError(half, pe.data) > 0.5, `concatenated layout is off by ${relativeError(half, pe.data)}`);
  assert.throws(() => assertClose(half, pe.data, 1e-5));
  assert.deepEqual(c.loaded.spec.positional, { kind: 'sinusoidal', layout: 'interleaved' });
});

// ── Scaled dot-product attention ─────────────────────────────────────────────────────────────────

test('scaled dot-product attention: scores, probabilities and output against a float64 reference', () => {
  const [B, H, Tq, Tk, dk, dv] = [2, 2, 3, 4, 5, 3];
  const q = randTensor([B, H, Tq, dk], 1, 2);
  const k = randTensor([B, H, Tk, dk], 2, 2);
  const v = randTensor([B, H, Tk, dv], 3, 2);
  const att = scaledDotProductAttention(q, k, v);
  assert.deepEqual(att.output.shape, [B, H, Tq, dv]);
  assert.deepEqual(att.probs.shape, [B, H, Tq, Tk]);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const ref = refAttention(slice(q, b, h), slice(k, b, h), slice(v, b, h), 1 / Math.sqrt(dk));
      assertClose(slice(att.scores, b, h).flat(), ref.scores.flat(), 1e-6, 'scores');
      assertClose(slice(att.probs, b, h).flat(), ref.probs.flat(), 1e-6, 'probs');
      assertClose(slice(att.output, b, h).flat(), ref.out.flat(), 1e-6, 'output');
    }
  }
  for (const row of rows(att.probs)) assert.ok(Math.abs(row.reduce((a, c) => a + c, 0) - 1) < 1e-6);
});

test('attention, worked by hand: one query, two orthogonal keys', () => {
  const q = Tensor.fromArray([1, 1, 1, 2], [1, 0]);
  const k = Tensor.fromArray([1, 1, 2, 2], [1, 0, 0, 1]);
  const v = Tensor.fromArray([1, 1, 2, 1], [10, 20]);
  const att = scaledDotProductAttention(q, k, v);
  const p0 = 1 / (1 + Math.exp(-1 / Math.SQRT2)); // softmax([1/√2, 0])[0]
  assertClose(att.scores.data, [1 / Math.SQRT2, 0], 1e-7);
  assertClose(att.probs.data, [p0, 1 - p0], 1e-7);
  assertClose(att.output.data, [10 * p0 + 20 * (1 - p0)], 1e-7);
});

test('mistake: forgetting 1/√d_k is far from PyTorch\'s attention pattern', () => {
  const c = loadNativeCase('tutorial_distinct');
  const e = (n: string) => c.expected.get(`blocks.1.attn.${n}`)!;
  const [q, k, v] = [e('hook_q'), e('hook_k'), e('hook_v')].map(swapAxes12);
  const right = scaledDotProductAttention(q, k, v);
  assertClose(right.probs.data, e('hook_pattern').data, 1e-5, 'with 1/√d_k');
  assertClose(swapAxes12(right.output).data, e('hook_z').data, 1e-5, 'z with 1/√d_k');
  const wrong = scaledDotProductAttention(q, k, v, undefined, 1);
  const err = relativeError(wrong.probs.data, e('hook_pattern').data);
  assert.ok(err > 0.1, `unscaled pattern is off by only ${err}`);
  assert.throws(() => assertClose(wrong.probs.data, e('hook_pattern').data, 1e-5));
});

// ── Masks ────────────────────────────────────────────────────────────────────────────────────────

test('causal mask: query i sees key i and not key i+1; with a cache, keys are offset', () => {
  const T = 5;
  const m = causalMask(2, T);
  for (let b = 0; b < 2; b++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) assert.equal(m.data[(b * T + i) * T + j], j <= i ? 1 : 0, `b ${b} query ${i} key ${j}`);
  // Two new queries after three cached keys: they are positions 3 and 4.
  const c = causalMask(1, 2, 5);
  assert.deepEqual([...c.data], [1, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
});

test('mistake: a causal mask off by one (in either direction) is far from PyTorch', () => {
  const c = loadNativeCase('torch_prenorm');
  const e = (n: string) => c.expected.get(`decoder.blocks.0.attn.${n}`)!;
  const [q, k, v] = [e('hook_q'), e('hook_k'), e('hook_v')].map(swapAxes12);
  const [B, , T] = q.shape;
  const pattern = e('hook_pattern').data;
  assertClose(scaledDotProductAttention(q, k, v, causalMask(B, T)).probs.data, pattern, 1e-5, 'j ≤ i');
  for (const [what, allowed] of [
    ['j < i (query misses itself)', (i: number, j: number) => j < i],
    ['j ≤ i + 1 (query sees the next key)', (i: number, j: number) => j <= i + 1],
  ] as const) {
    const wrong = scaledDotProductAttention(q, k, v, maskFrom(B, T, T, allowed)).probs.data;
    assert.ok(relativeError(wrong, pattern) > 0.1, `${what}: off by only ${relativeError(wrong, pattern)}`);
  }
});

test('a fully masked row is uniform, never NaN; mistake: an additive −∞ mask NaNs it', () => {
  const [Tq, Tk] = [2, 3];
  const q = randTensor([1, 1, Tq, 4], 5, 2);
  const k = randTensor([1, 1, Tk, 4], 6, 2);
  const v = randTensor([1, 1, Tk, 2], 7, 2);
  const mask = maskFrom(1, Tq, Tk, (i) => i === 0); // query 1 may attend to nothing
  const att = scaledDotProductAttention(q, k, v, mask);
  assert.ok(att.probs.data.every((x) => !Number.isNaN(x)) && att.output.data.every((x) => !Number.isNaN(x)));
  assertClose(att.probs.data.subarray(Tk), [1 / 3, 1 / 3, 1 / 3], 1e-7, 'uniform row');
  const vr = slice(v, 0, 0);
  assertClose(att.output.data.subarray(2), [0, 1].map((c) => (vr[0][c] + vr[1][c] + vr[2][c]) / 3), 1e-6, 'mean of the values');
  // The wrong version: scores + (−∞) then a max-subtracting softmax, as `scores + float('-inf') mask` does.
  const naive = slice(att.scores, 0, 0).map((row, i) => softmax(row.map((s, j) => (mask.data[i * Tk + j] ? s : -Infinity))));
  assert.ok(naive[1].every(Number.isNaN), 'the −∞ version gives NaN');
  assert.throws(() => assertClose(naive.flat(), att.probs.data, 1e-5), /NaN/);
});

test('padding mask hides keys from every query; masks compose by AND', () => {
  const pad = paddingMask([[1, 1, 0], [1, 0, 0]], 2);
  assert.deepEqual([pad.batch, pad.queries, pad.keys], [2, 2, 3]);
  assert.deepEqual([...pad.data], [1, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0]);
  const both = combineMasks(causalMask(1, 3), paddingMask([[1, 0, 1]], 3))!;
  assert.deepEqual([...both.data], [1, 0, 0, 1, 0, 0, 1, 0, 1]);
  assert.deepEqual([...fullMask(1, 2, 2).data], [1, 1, 1, 1]);
  assert.equal(combineMasks(undefined, undefined), undefined);
  assert.throws(() => combineMasks(fullMask(1, 2, 2), fullMask(1, 2, 3)), /cannot combine/);
  // A masked key's content cannot reach the output; without the mask it does.
  const q = randTensor([2, 2, 2, 4], 8, 2);
  const k = randTensor([2, 2, 3, 4], 9, 2);
  const v = randTensor([2, 2, 3, 4], 10, 2);
  const k2 = k.clone();
  const v2 = v.clone();
  for (let h = 0; h < 2; h++) {
    const off = (1 * 2 + h) * 3 * 4 + 2 * 4; // batch 1, key 2 (padding)
    for (let c = 0; c < 4; c++) {
      k2.data[off + c] += 5;
      v2.data[off + c] -= 7;
    }
  }
  assert.deepEqual(scaledDotProductAttention(q, k2, v2, pad).output.data, scaledDotProductAttention(q, k, v, pad).output.data);
  assert.ok(relativeError(scaledDotProductAttention(q, k2, v2).output.data, scaledDotProductAttention(q, k, v).output.data) > 0.1);
});

// ── Multi-head attention ─────────────────────────────────────────────────────────────────────────

test('multi-head: head h reads features [h·d_k, (h+1)·d_k) and the heads are concatenated back', () => {
  // Through a one-layer model, so the test sees the projections exactly as the model wires them.
  const spec = nativeSpecFromJson({ vocab_size: 11, d_model: 6, num_heads: 2, d_ff: 8, num_layers: 1, max_len: 4, seed: 3 });
  const model = buildNativeModel(spec);
  const { steps } = runTrace(model.forward({ ids: [[1, 5, 9], [2, 2, 7]] }));
  const hooks = new Map(steps.map((s) => [s.name, s.tensor]));
  const param = (n: string) => model.parameters.get(`encoder.layers.0.attn.${n}`)!;
  const lin = (n: string) => ({ weight: param(`${n}.weight`), bias: param(`${n}.bias`) });
  const [B, T, D, H] = [2, 3, 6, 2];
  const dk = D / H;
  const x = hooks.get('blocks.0.ln1.hook_normalized')!;
  const expectZ: number[] = [];
  const expectOut: number[] = [];
  const wrongOut: number[] = [];
  const out = lin('linear_out');
  for (let b = 0; b < B; b++) {
    const xb = rows(x).slice(b * T, (b + 1) * T);
    const [Q, K, V] = ['linear_q', 'linear_k', 'linear_v'].map((n) => xb.map((r) => linearRef(r, lin(n).weight, lin(n).bias)));
    const heads = Array.from({ length: H }, (_, h) => {
      const cut = (m: number[][]) => m.map((r) => r.slice(h * dk, (h + 1) * dk));
      return refAttention(cut(Q), cut(K), cut(V), 1 / Math.sqrt(dk)).out;
    });
    // The classic split bug: view(B, H, T, d_k) without the transpose mixes positions into heads.
    const bad = (m: number[][], h: number) => Array.from({ length: T }, (_, t) => m.flat().slice((h * T + t) * dk, (h * T + t + 1) * dk));
    const badHeads = Array.from({ length: H }, (_, h) => refAttention(bad(Q, h), bad(K, h), bad(V, h), 1 / Math.sqrt(dk)).out);
    for (let t = 0; t < T; t++) {
      const z = heads.flatMap((o) => o[t]);
      expectZ.push(...z);
      expectOut.push(...linearRef(z, out.weight, out.bias));
      wrongOut.push(...linearRef(badHeads.flatMap((o) => o[t]), out.weight, out.bias));
    }
  }
  const q = hooks.get('blocks.0.attn.hook_q')!;
  assert.deepEqual(q.shape, [B, T, H, dk]);
  assertClose(q.data, rows(x).flatMap((r) => linearRef(r, lin('linear_q').weight, lin('linear_q').bias)), 1e-6, 'q');
  assertClose(hooks.get('blocks.0.attn.hook_z')!.data, expectZ, 1e-6, 'z');
  assertClose(hooks.get('blocks.0.hook_attn_out')!.data, expectOut, 1e-6, 'attention output');
  assert.ok(relativeError(wrongOut, expectOut) > 0.1, 'the split without transpose is far off');
});

// ── Feed-forward and LayerNorm ───────────────────────────────────────────────────────────────────

test('feed-forward: W2·ReLU(W1·x + b1) + b2, with pre and post activations recorded', () => {
  const [D, F] = [4, 6];
  const up = new Linear(randTensor([F, D], 21), randTensor([F], 22, 0.5));
  const down = new Linear(randTensor([D, F], 23), randTensor([D], 24, 0.5));
  const ffn = new FeedForward('blocks.0.mlp', up, down, 'relu');
  const x = randTensor([1, 3, D], 25, 2);
  const { steps, result } = runTrace(ffn.forward(x));
  const pre = rows(x).map((r) => linearRef(r, up.weight, up.bias));
  const post = pre.map((r) => r.map((v) => Math.max(0, v)));
  assert.ok(pre.flat().some((v) => v < 0), 'some pre-activations are negative, so ReLU matters');
  assertClose(steps[0].tensor.data, pre.flat(), 1e-6, 'hook_pre');
  assertClose(steps[1].tensor.data, post.flat(), 1e-6, 'hook_post');
  assertClose(result.data, post.flatMap((r) => linearRef(r, down.weight, down.bias)), 1e-6, 'output');
  const noRelu = pre.flatMap((r) => linearRef(r, down.weight, down.bias));
  assert.ok(relativeError(noRelu, result.data) > 0.05);
});

test('LayerNorm: biased variance, eps inside the square root, gain and bias; mistake: unbiased variance', () => {
  const d = 5;
  const g = randTensor([d], 31, 1);
  const b = randTensor([d], 32, 1);
  const ln = new LayerNorm({ kind: 'layernorm', eps: 1e-5, bias: true }, g, b);
  const x = randTensor([2, 3, d], 33, 3);
  const y = ln.forward(x);
  assertClose(y.data, rows(x).flatMap((r) => layerNormRef(r, g, b, 1e-5)), 1e-6);
  const unbiased = rows(x).flatMap((r) => layerNormRef(r, g, b, 1e-5, true));
  assert.ok(relativeError(unbiased, y.data) > 0.05, 'var/(n−1) is visibly different at small d');
  // A constant row has zero variance: the output is the bias, finite.
  const flatRow = ln.forward(Tensor.fromArray([1, d], [2, 2, 2, 2, 2]));
  assertClose(flatRow.data, b.data, 1e-6);
});

test('norm placement: pre is x + f(norm(x)), post is norm(x + f(x)), and they differ', () => {
  const D = 4;
  const ffn = new FeedForward('blocks.0.mlp', new Linear(randTensor([8, D], 41), randTensor([8], 42)), new Linear(randTensor([D, 8], 43), randTensor([D], 44)), 'relu');
  const norm = new LayerNorm({ kind: 'layernorm', eps: 1e-5, bias: true }, randTensor([D], 45), randTensor([D], 46));
  const x = randTensor([1, 3, D], 47, 2);
  const f = (r: number[]) => linearRef(linearRef(r, ffn.up.weight, ffn.up.bias).map((v) => Math.max(0, v)), ffn.down.weight, ffn.down.bias);
  const n = (r: number[]) => layerNormRef(r, norm.weight, norm.bias!, 1e-5);
  const preRef = rows(x).flatMap((r) => f(n(r)).map((v, j) => r[j] + v));
  const postRef = rows(x).flatMap((r) => n(f(r).map((v, j) => r[j] + v)));
  const run = (placement: 'pre' | 'post') => {
    const block = new Block('blocks.0', [{ kind: 'mlp', ffn, norm }], placement);
    return runTrace(block.forward(x, {})).result.data;
  };
  assertClose(run('pre'), preRef, 1e-6, 'pre-norm');
  assertClose(run('post'), postRef, 1e-6, 'post-norm');
  assert.ok(relativeError(run('pre'), postRef) > 0.1);
});

// ── Weight layout ────────────────────────────────────────────────────────────────────────────────

test('nn.Linear stores [out, in]: a non-square weight the wrong way round is a shape error', () => {
  const w = randTensor([3, 5], 51);
  const b = randTensor([3], 52);
  const x = randTensor([2, 5], 53);
  assertClose(new Linear(w, b).forward(x).data, rows(x).flatMap((r) => linearRef(r, w, b)), 1e-6);
  const wT = new Tensor([5, 3]);
  for (let o = 0; o < 3; o++) for (let i = 0; i < 5; i++) wT.data[i * 3 + o] = w.data[o * 5 + i];
  assert.throws(() => new Linear(wT, b).forward(x), /expects last axis 3/);
  // Loading a file whose linear1 weight is stored [in, out]: refused, naming the tensor and both shapes.
  const c = loadNativeCase('tutorial_distinct');
  const tensors = readExpected(c.weightsPath);
  const name = 'encoder.layers.0.ffn.linear1.weight';
  const orig = tensors.get(name)!;
  const [out, inp] = orig.shape;
  tensors.set(name, transpose(orig));
  withTempDir((dir) => {
    writeSafetensors(path.join(dir, 'w.safetensors'), tensors);
    assert.throws(
      () => buildNativeModel(c.loaded.spec, new FileWeights([SafetensorsFile.open(path.join(dir, 'w.safetensors'))])),
      (e: unknown) =>
        e instanceof InspectorError && e.place.tensor === name && e.message.includes(`[${inp}, ${out}]`) && e.message.includes(`[${out}, ${inp}]`),
    );
  });
});

test('mistake: a square weight loaded transposed gives no error but wrong numbers', () => {
  const c = loadNativeCase('tutorial_distinct');
  const tensors = readExpected(c.weightsPath);
  const name = 'encoder.layers.0.attn.linear_q.weight';
  tensors.set(name, transpose(tensors.get(name)!));
  const logits = c.expected.get('logits')!.data;
  withTempDir((dir) => {
    writeSafetensors(path.join(dir, 'w.safetensors'), tensors);
    const model = buildNativeModel(c.loaded.spec, new FileWeights([SafetensorsFile.open(path.join(dir, 'w.safetensors'))]));
    const got = runTrace(model.forward(c.input)).result.data;
    assert.ok(relativeError(got, logits) > 0.01, `transposed W_q is off by only ${relativeError(got, logits)}`);
    assert.throws(() => assertClose(got, logits, 1e-5));
  });
  // The untouched file reproduces the logits, so the difference above is the transposition alone.
  assertClose(runTrace(c.loaded.model.forward(c.input)).result.data, logits, 1e-5);
});

function transpose(t: Tensor): Tensor {
  const [r, c] = t.shape;
  const out = new Tensor([c, r]);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.data[j * r + i] = t.data[i * c + j];
  return out;
}
