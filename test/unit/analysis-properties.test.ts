import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonObject } from '../../engine/config/json';
import { analyzeConfig } from '../../engine/analysis';

/** Property tests: exact linearity in the number of layers, and tying removes exactly one vocab × width matrix. */

const total = (json: JsonObject, native = false): bigint => analyzeConfig(json, { native }).params.total;

interface Family {
  /** A config with `L` layers (for encoder-decoders, the key under test) of the given sizes. */
  make(s: Sizes, L: number): JsonObject;
  /** The key that ties the output projection to the embedding, and its value when tied. */
  tie?: { key: string; tied: boolean; untied: boolean };
  /** Layers before the repeating part starts (DeepSeek's dense layers). */
  minLayers?: number;
}

interface Sizes {
  vocab: number;
  heads: number;
  kvDiv: number;
  headDim: number;
  ff: number;
  experts: number;
  topK: number;
}

const width = (s: Sizes): number => s.heads * s.headDim;
const kv = (s: Sizes): number => s.heads / s.kvDiv;

const decoder = (model_type: string, extra: (s: Sizes) => JsonObject = () => ({})): Family => ({
  make: (s, L) => ({
    model_type,
    vocab_size: s.vocab,
    hidden_size: width(s),
    intermediate_size: s.ff,
    num_hidden_layers: L,
    num_attention_heads: s.heads,
    num_key_value_heads: kv(s),
    ...extra(s),
  }),
  tie: { key: 'tie_word_embeddings', tied: true, untied: false },
});

const FAMILIES: Record<string, Family> = {
  llama: decoder('llama', () => ({ attention_bias: true })),
  mistral: decoder('mistral'),
  qwen2: decoder('qwen2'),
  gemma: decoder('gemma', (s) => ({ head_dim: s.headDim })),
  gemma2: decoder('gemma2', (s) => ({ head_dim: s.headDim })),
  phi3: decoder('phi3'),
  mixtral: decoder('mixtral', (s) => ({ num_local_experts: s.experts, num_experts_per_tok: s.topK })),
  qwen2_moe: decoder('qwen2_moe', (s) => ({
    num_experts: s.experts,
    num_experts_per_tok: s.topK,
    moe_intermediate_size: 8,
    shared_expert_intermediate_size: 12,
  })),
  deepseek_v3: {
    ...decoder('deepseek_v3', (s) => ({
      n_routed_experts: s.experts,
      num_experts_per_tok: s.topK,
      moe_intermediate_size: 8,
      kv_lora_rank: 8,
      q_lora_rank: 6,
      qk_rope_head_dim: 4,
      qk_nope_head_dim: 4,
      v_head_dim: 4,
      first_k_dense_replace: 2,
      n_group: 1,
      topk_group: 1,
    })),
    minLayers: 2,
  },
  gpt2: {
    make: (s, L) => ({
      model_type: 'gpt2',
      vocab_size: s.vocab,
      n_embd: width(s),
      n_head: s.heads,
      n_layer: L,
      n_positions: 64,
    }),
    tie: { key: 'tie_word_embeddings', tied: true, untied: false },
  },
  bert: {
    make: (s, L) => ({
      model_type: 'bert',
      vocab_size: s.vocab,
      hidden_size: width(s),
      num_attention_heads: s.heads,
      intermediate_size: s.ff,
      num_hidden_layers: L,
    }),
  },
  t5: {
    make: (s, L) => ({
      model_type: 't5',
      vocab_size: s.vocab,
      d_model: width(s),
      num_heads: s.heads,
      d_kv: s.headDim,
      d_ff: s.ff,
      num_layers: 3,
      num_decoder_layers: L,
    }),
    tie: { key: 'tie_word_embeddings', tied: true, untied: false },
  },
  marian: {
    make: (s, L) => ({
      model_type: 'marian',
      vocab_size: s.vocab,
      d_model: width(s),
      encoder_layers: L,
      decoder_layers: 2,
      encoder_attention_heads: s.heads,
      decoder_attention_heads: s.heads,
      encoder_ffn_dim: s.ff,
      decoder_ffn_dim: s.ff,
    }),
    tie: { key: 'tie_word_embeddings', tied: true, untied: false },
  },
  bart: {
    make: (s, L) => ({
      model_type: 'bart',
      vocab_size: s.vocab,
      d_model: width(s),
      encoder_layers: 2,
      decoder_layers: L,
      encoder_attention_heads: s.heads,
      decoder_attention_heads: s.heads,
      encoder_ffn_dim: s.ff,
      decoder_ffn_dim: s.ff,
    }),
  },
  native: {
    make: (s, L) => ({
      vocab_size: s.vocab,
      d_model: width(s),
      num_heads: s.heads,
      num_kv_heads: kv(s),
      d_ff: s.ff,
      num_layers: L,
      max_len: 64,
      architecture: 'decoder',
      positional: 'learned',
    }),
    tie: { key: 'tie_embeddings', tied: true, untied: false },
  },
};

const sizes: fc.Arbitrary<Sizes> = fc
  .record({
    vocab: fc.integer({ min: 1, max: 300_000 }),
    heads: fc.constantFrom(1, 2, 4, 8, 16),
    kvPow: fc.integer({ min: 0, max: 4 }),
    headDim: fc.integer({ min: 1, max: 128 }),
    ff: fc.integer({ min: 1, max: 50_000 }),
    experts: fc.integer({ min: 1, max: 300 }),
    k: fc.integer({ min: 1, max: 300 }),
  })
  .map(({ vocab, heads, kvPow, headDim, ff, experts, k }) => ({
    vocab,
    heads,
    kvDiv: Math.min(2 ** kvPow, heads),
    headDim: heads === 1 && headDim === 1 ? 2 : headDim,
    ff,
    experts,
    topK: Math.min(k, experts),
  }));

for (const [name, fam] of Object.entries(FAMILIES)) {
  const isNative = name === 'native';
  test(`${name}: the count is exactly linear in the number of layers, to 10^15 layers`, () => {
    const min = fam.minLayers ?? 1;
    fc.assert(
      fc.property(
        sizes,
        fc.integer({ min, max: 200 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 1e15 }),
        (s, L1, d1, d2) => {
          if (isNative && L1 + d1 + d2 > 10_000) d2 = 1; // the native config caps layers at 10,000
          const L2 = L1 + d1;
          const L3 = L2 + d2;
          const [t1, t2, t3] = [L1, L2, L3].map((L) => total(fam.make(s, L), isNative));
          assert.equal((t2 - t1) * BigInt(L3 - L2), (t3 - t2) * BigInt(L2 - L1));
          const perLayer = (t2 - t1) / BigInt(d1);
          assert.ok(perLayer > 0n);
          assert.equal(t3, t1 + perLayer * BigInt(L3 - L1));
        },
      ),
      { numRuns: 40 },
    );
  });
  if (fam.tie) {
    const tie = fam.tie;
    test(`${name}: tying the output projection subtracts exactly vocab × width`, () => {
      fc.assert(
        fc.property(sizes, fc.integer({ min: 1, max: 40 }), (s, L) => {
          const base = fam.make(s, L);
          const tied = total({ ...base, [tie.key]: tie.tied }, isNative);
          const untied = total({ ...base, [tie.key]: tie.untied }, isNative);
          assert.equal(untied - tied, BigInt(s.vocab) * BigInt(width(s)));
        }),
        { numRuns: 40 },
      );
    });
  }
}

test('active ≤ total, equal for dense models; MoE active grows with top-k exactly by one expert per layer', () => {
  fc.assert(
    fc.property(sizes, fc.integer({ min: 1, max: 64 }), (s, L) => {
      const dense = analyzeConfig(FAMILIES.llama.make(s, L)).params;
      assert.equal(dense.active, dense.total);
      if (s.topK >= s.experts) return;
      const moe = (k: number) =>
        analyzeConfig({ ...FAMILIES.mixtral.make(s, L), num_experts_per_tok: k }).params;
      const a = moe(s.topK);
      const b = moe(s.topK + 1);
      assert.ok(a.active < a.total || s.topK === s.experts);
      assert.equal(b.total, a.total);
      assert.equal(b.active - a.active, BigInt(L) * 3n * BigInt(width(s)) * BigInt(s.ff));
    }),
    { numRuns: 60 },
  );
});

test('KV cache grows linearly with context and batch, and stops growing at the sliding window', () => {
  fc.assert(
    fc.property(
      sizes,
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 100_000 }),
      fc.integer({ min: 1, max: 64 }),
      (s, L, window, context, batch) => {
        const json = { ...FAMILIES.mistral.make(s, L), sliding_window: window };
        const kvc = analyzeConfig(json, { context, batch }).kv;
        assert.equal(kvc.bytesPerToken, BigInt(L) * 2n * BigInt(kv(s)) * BigInt(s.headDim) * 2n);
        assert.equal(
          kvc.bytesForContext,
          kvc.bytesPerToken * BigInt(Math.min(context, window)) * BigInt(batch),
        );
      },
    ),
    { numRuns: 100 },
  );
});
