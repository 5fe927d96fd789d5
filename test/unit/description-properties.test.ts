import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonObject } from '../../engine/config/json';
import { nativeSpecFromJson } from '../../engine/config/native';
import { buildNativeModel } from '../../engine/model/native';
import { buildHfModel, hfSpec } from '../../engine/model/hf';
import type { TransformerModel } from '../../engine/model/transformer';
import { analyzeConfig, expandTensors } from '../../engine/analysis';
import { modelTree, walkTree } from '../../engine/worker/tree';
import { descriptionTree } from '../../engine/worker/description-tree';
import { describeModel } from '../../engine/model/describe';

/**
 * Over random valid configs of every family the engine runs, including the keys where families differ
 * (head_dim, attention_bias, mlp_bias, tie_word_embeddings, partial_rotary_factor, sliding_window, MoE
 * and MLA keys, scale_embedding): the analysis lists exactly the tensors the engine allocates, name by
 * name and size by size, and the sidebar tree's counts add up to the total.
 */

const PREFIXES = ['transformer.', 'bert.'];
const strip = (n: string): string => PREFIXES.reduce((s, p) => (s.startsWith(p) ? s.slice(p.length) : s), n);

function check(json: JsonObject, model: TransformerModel, native = false): void {
  const a = analyzeConfig(json, { native });
  const listed = new Map(expandTensors(a.arch).map((t) => [strip(t.name), t.size]));
  const allocated = new Map([...model.parameters].map(([n, t]) => [strip(n), BigInt(t.size)]));
  const missing = [...listed.keys()].filter((k) => !allocated.has(k));
  const extra = [...allocated.keys()].filter((k) => !listed.has(k));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `same tensor names for ${JSON.stringify(json)}`);
  for (const [n, size] of listed) assert.equal(allocated.get(n), size, `size of ${n}`);
  assert.equal(a.params.total, BigInt(model.parameterCount()), 'analysis total = allocated total');
  const tree = modelTree(model);
  assert.equal(tree.parameters, model.parameterCount(), 'the tree root counts every parameter');
  for (const { node } of walkTree(tree)) {
    const below = node.children.reduce((s, c) => s + c.parameters, 0);
    assert.ok(below <= node.parameters, `${node.id}: children (${below}) exceed the node (${node.parameters})`);
  }
  const leaves = [...walkTree(tree)].filter(({ node }) => node.children.length === 0).reduce((s, { node }) => s + node.parameters, 0);
  const owners = [...walkTree(tree)].reduce((s, { node }) => s + node.parameters - node.children.reduce((t, c) => t + c.parameters, 0), 0);
  assert.equal(owners, model.parameterCount(), `own counts over the tree sum to the total (leaves ${leaves})`);
  // The tree made from the description alone: the same nodes and counts, summing to the total.
  const fromDescription = [...walkTree(descriptionTree(describeModel(json, { native })))].map(({ node }) => `${node.id} ${node.label} ${node.parameters}`);
  assert.deepEqual(fromDescription, [...walkTree(tree)].map(({ node }) => `${node.id} ${node.label} ${node.parameters}`), 'description tree = built tree');
}

function hf(json: JsonObject): void {
  const text = JSON.stringify(json);
  check(json, buildHfModel(text, undefined, hfSpec(text)));
}

const small = fc.integer({ min: 1, max: 3 });
const vocab = fc.integer({ min: 5, max: 40 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const clean = (o: Record<string, unknown>): JsonObject => JSON.parse(JSON.stringify(o)) as JsonObject;

/** heads, kv heads dividing them, and a head dim (a multiple of 4, so a partial rotary factor of ½ rotates an even number of dims). */
const geometry = fc
  .record({ kvHeads: small, group: small, headDim: fc.constantFrom(4, 8) })
  .map((g) => ({ heads: g.kvHeads * g.group, kvHeads: g.kvHeads, headDim: g.headDim }));

const llamaLike = (model_type: string) =>
  fc
    .record({
      g: geometry,
      vocab,
      ff: fc.integer({ min: 1, max: 24 }),
      layers: small,
      explicitHeadDim: fc.boolean(),
      attention_bias: opt(fc.boolean()),
      mlp_bias: opt(fc.boolean()),
      tie_word_embeddings: opt(fc.boolean()),
      partial_rotary_factor: opt(fc.constantFrom(0.5, 1)),
      sliding_window: opt(fc.integer({ min: 1, max: 8 })),
      use_sliding_window: opt(fc.boolean()),
    })
    .map((r) =>
      clean({
        model_type,
        vocab_size: r.vocab,
        hidden_size: r.g.heads * r.g.headDim,
        intermediate_size: r.ff,
        num_hidden_layers: r.layers,
        num_attention_heads: r.g.heads,
        num_key_value_heads: r.g.kvHeads,
        max_position_embeddings: 16,
        // Absent, head_dim is hidden_size / num_attention_heads — except Gemma's, which defaults to 256.
        head_dim: r.explicitHeadDim ? r.g.headDim : undefined,
        attention_bias: r.attention_bias,
        mlp_bias: r.mlp_bias,
        tie_word_embeddings: r.tie_word_embeddings,
        partial_rotary_factor: r.partial_rotary_factor,
        sliding_window: r.sliding_window,
        use_sliding_window: r.use_sliding_window,
      }),
    );

const FAMILIES: Record<string, fc.Arbitrary<JsonObject>> = {
  llama: llamaLike('llama'),
  mistral: llamaLike('mistral'),
  qwen2: llamaLike('qwen2'),
  gemma: llamaLike('gemma'),
  gpt2: fc
    .record({ heads: small, headDim: fc.constantFrom(2, 4), layers: small, vocab, n_inner: opt(fc.integer({ min: 1, max: 20 })), tie: opt(fc.boolean()), positions: fc.integer({ min: 4, max: 16 }) })
    .map((r) => clean({ model_type: 'gpt2', vocab_size: r.vocab, n_positions: r.positions, n_embd: r.heads * r.headDim, n_layer: r.layers, n_head: r.heads, n_inner: r.n_inner, tie_word_embeddings: r.tie })),
  // The engine runs BERT as BertForMaskedLM (it needs logits); the analysis of a BertModel config counts the
  // pooler and no MLM head instead, so only the class the engine builds is compared here.
  bert: fc
    .record({ heads: small, headDim: fc.constantFrom(2, 4), layers: small, vocab, ff: fc.integer({ min: 1, max: 20 }), types: fc.integer({ min: 1, max: 3 }), cls: fc.constantFrom('BertForMaskedLM', 'BertLMHeadModel') })
    .map((r) => clean({ model_type: 'bert', architectures: [r.cls], vocab_size: r.vocab, hidden_size: r.heads * r.headDim, intermediate_size: r.ff, num_hidden_layers: r.layers, num_attention_heads: r.heads, max_position_embeddings: 16, type_vocab_size: r.types })),
  marian: fc
    .record({ heads: small, headDim: fc.constantFrom(2, 4), enc: small, dec: small, vocab, ff: fc.integer({ min: 1, max: 20 }), scale_embedding: opt(fc.boolean()), tie: opt(fc.boolean()) })
    .map((r) =>
      clean({
        model_type: 'marian',
        architectures: ['MarianMTModel'],
        vocab_size: r.vocab,
        decoder_vocab_size: r.vocab,
        d_model: r.heads * r.headDim,
        encoder_layers: r.enc,
        decoder_layers: r.dec,
        encoder_attention_heads: r.heads,
        decoder_attention_heads: r.heads,
        encoder_ffn_dim: r.ff,
        decoder_ffn_dim: r.ff,
        max_position_embeddings: 16,
        pad_token_id: r.vocab - 1,
        decoder_start_token_id: r.vocab - 1,
        scale_embedding: r.scale_embedding,
        tie_word_embeddings: r.tie,
      }),
    ),
  deepseek_v2: fc
    .record({
      heads: small,
      vocab,
      layers: fc.integer({ min: 1, max: 3 }),
      dense: fc.integer({ min: 0, max: 2 }),
      experts: fc.integer({ min: 1, max: 4 }),
      shared: fc.integer({ min: 0, max: 2 }),
      topFrac: fc.double({ min: 0, max: 1, noNaN: true }),
      kv_lora_rank: fc.integer({ min: 1, max: 8 }),
      // null: queries by one q_proj; absent: DeepseekV2Config's default rank 1536.
      q_lora_rank: fc.oneof(fc.constant(null), fc.constant(undefined), fc.integer({ min: 1, max: 8 })),
      rope: fc.constantFrom(2, 4),
      nope: fc.integer({ min: 1, max: 6 }),
      v: fc.integer({ min: 1, max: 6 }),
    })
    .map((r) =>
      clean({
        model_type: 'deepseek_v2',
        vocab_size: r.vocab,
        hidden_size: 16,
        intermediate_size: 24,
        moe_intermediate_size: 8,
        num_hidden_layers: r.layers,
        num_attention_heads: r.heads,
        n_routed_experts: r.experts,
        n_shared_experts: r.shared,
        num_experts_per_tok: Math.max(1, Math.ceil(r.topFrac * r.experts)),
        first_k_dense_replace: Math.min(r.dense, r.layers),
        kv_lora_rank: r.kv_lora_rank,
        q_lora_rank: r.q_lora_rank,
        qk_rope_head_dim: r.rope,
        qk_nope_head_dim: r.nope,
        v_head_dim: r.v,
        max_position_embeddings: 16,
      }),
    ),
};

for (const [family, arb] of Object.entries(FAMILIES)) {
  test(`${family}: random configs — analysis = allocated tensors, name by name; the tree sums to the total`, () => {
    fc.assert(fc.property(arb, hf), { numRuns: 50, seed: 8 });
  });
}

test('native: random configs — analysis = allocated tensors, name by name; the tree sums to the total', () => {
  const arb = fc
    .record({
      heads: small,
      headDim: fc.constantFrom(2, 4),
      layers: small,
      vocab,
      d_ff: fc.integer({ min: 1, max: 20 }),
      architecture: fc.constantFrom('encoder', 'decoder', 'encoder-decoder'),
      positional: fc.constantFrom('sinusoidal', 'learned', 'rope'),
      ffn: fc.constantFrom('mlp', 'swiglu', 'geglu', 'glu'),
      norm: fc.constantFrom('layernorm', 'rmsnorm', 'layernorm_nobias', 'scalenorm'),
      tie_embeddings: fc.boolean(),
      share_embeddings: fc.boolean(),
      output_bias: fc.boolean(),
      shared_layers: fc.boolean(),
      scale_embedding: fc.boolean(),
    })
    .map((r) =>
      clean({
        vocab_size: r.vocab,
        d_model: r.heads * r.headDim,
        num_heads: r.heads,
        d_ff: r.d_ff,
        num_layers: r.layers,
        max_len: 8,
        architecture: r.architecture,
        positional: r.positional,
        ffn: r.ffn,
        norm: r.norm,
        tie_embeddings: r.tie_embeddings,
        share_embeddings: r.architecture === 'encoder-decoder' ? r.share_embeddings : undefined,
        output_bias: r.output_bias,
        shared_layers: r.shared_layers,
        scale_embedding: r.scale_embedding,
      }),
    );
  fc.assert(
    fc.property(arb, (json) => check(json, buildNativeModel(nativeSpecFromJson(json)), true)),
    { numRuns: 40, seed: 8 },
  );
});
