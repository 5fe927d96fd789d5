import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../../engine/config/json';
import { nativeSpecFromJson } from '../../engine/config/native';
import { buildNativeModel } from '../../engine/model/native';
import { HF_FAMILIES as ENGINE_FAMILIES, buildHfModel, hfSpec } from '../../engine/model/hf';
import type { TransformerModel } from '../../engine/model/transformer';
import { analyzeConfig, expandTensors } from '../../engine/analysis';

/**
 * For every model the engine can build, the analytic count equals the sum of the sizes of the tensors
 * the engine actually allocates, tensor by tensor (same names, same sizes; tied tensors once).
 */

/** Checkpoint prefixes the engine may drop (GPT-2's official file is unprefixed, BERT's MLM file is `bert.`). */
const PREFIXES = ['transformer.', 'bert.'];
const strip = (n: string): string => PREFIXES.reduce((s, p) => (s.startsWith(p) ? s.slice(p.length) : s), n);

function allocated(model: TransformerModel): Map<string, bigint> {
  return new Map([...model.parameters].map(([n, t]) => [strip(n), BigInt(t.size)]));
}

function checkSame(json: JsonObject, model: TransformerModel, opts: { native?: boolean } = {}): void {
  const a = analyzeConfig(json, opts);
  const expected = new Map(expandTensors(a.arch).map((t) => [strip(t.name), t.size]));
  const got = allocated(model);
  const missing = [...expected.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !expected.has(k));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'the same tensor names');
  for (const [n, size] of expected) assert.equal(got.get(n), size, `size of ${n}`);
  assert.equal(a.params.total, BigInt(model.parameterCount()), 'analytic total = allocated total');
}

const tutorial = {
  vocab_size: 40,
  d_model: 16,
  num_heads: 4,
  d_ff: 32,
  num_layers: 2,
  max_len: 12,
  dropout: 0.1,
};

const NATIVE: Record<string, JsonObject> = {
  'tutorial encoder (sinusoidal, pre-norm, fc_out with bias)': tutorial,
  'decoder, learned positions, tied, no output bias': {
    ...tutorial,
    architecture: 'decoder',
    positional: 'learned',
    tie_embeddings: true,
    output_bias: false,
  },
  'decoder, tied with an output bias': { ...tutorial, architecture: 'decoder', tie_embeddings: true },
  'encoder-decoder, shared and tied embeddings': {
    ...tutorial,
    architecture: 'encoder-decoder',
    num_decoder_layers: 3,
    share_embeddings: true,
    tie_embeddings: true,
  },
  'encoder-decoder, own target vocabulary, post-norm, learned positions': {
    ...tutorial,
    architecture: 'encoder-decoder',
    tgt_vocab_size: 23,
    norm_placement: 'post',
    positional: 'learned',
  },
  'shared_layers (the tutorial quirk)': { ...tutorial, num_layers: 6, shared_layers: true },
  'shared_layers encoder-decoder': { ...tutorial, architecture: 'encoder-decoder', shared_layers: true },
  'post-norm, LayerNorm without bias, no final norm': {
    ...tutorial,
    norm_placement: 'post',
    norm: 'layernorm_nobias',
    final_norm: false,
  },
  'RoPE, GQA, SwiGLU, RMSNorm decoder': {
    ...tutorial,
    architecture: 'decoder',
    positional: 'rope',
    num_kv_heads: 2,
    ffn: 'swiglu',
    norm: 'rmsnorm',
  },
  'multi-query, GeGLU, ScaleNorm': {
    ...tutorial,
    architecture: 'decoder',
    num_kv_heads: 1,
    ffn: 'geglu',
    norm: 'scalenorm',
  },
  'latent bottleneck encoder': { ...tutorial, attention: 'latent_bottleneck', num_latents: 3 },
  'sliding-window decoder': {
    ...tutorial,
    architecture: 'decoder',
    masks: [{ kind: 'sliding_window', window: 4 }],
  },
};

for (const [name, json] of Object.entries(NATIVE)) {
  test(`native ${name}: analytic count = allocated tensors`, () => {
    checkSame(json, buildNativeModel(nativeSpecFromJson(json)), { native: true });
  });
}

/** Tiny configs of every Hugging Face family (the engine builds those it runs). */
const HF: Record<string, JsonObject[]> = {
  gpt2: [
    {
      model_type: 'gpt2',
      vocab_size: 50,
      n_positions: 16,
      n_embd: 8,
      n_layer: 2,
      n_head: 2,
      architectures: ['GPT2LMHeadModel'],
    },
  ],
  llama: [
    {
      model_type: 'llama',
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 32,
    },
    {
      model_type: 'llama',
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      tie_word_embeddings: true,
      attention_bias: true,
      mlp_bias: true,
      head_dim: 8,
    },
  ],
  mistral: [
    {
      model_type: 'mistral',
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      sliding_window: 4,
    },
  ],
  qwen2: [
    {
      model_type: 'qwen2',
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      tie_word_embeddings: true,
    },
  ],
  gemma: [
    {
      model_type: 'gemma',
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 12,
    },
  ],
  bert: [
    {
      model_type: 'bert',
      architectures: ['BertForMaskedLM'],
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      max_position_embeddings: 20,
      type_vocab_size: 2,
    },
  ],
  marian: [
    {
      model_type: 'marian',
      architectures: ['MarianMTModel'],
      vocab_size: 40,
      decoder_vocab_size: 40,
      d_model: 16,
      encoder_layers: 2,
      decoder_layers: 3,
      encoder_attention_heads: 4,
      decoder_attention_heads: 4,
      encoder_ffn_dim: 24,
      decoder_ffn_dim: 24,
      max_position_embeddings: 32,
      pad_token_id: 39,
      decoder_start_token_id: 39,
      scale_embedding: true,
    },
  ],
  deepseek_v2: [
    {
      model_type: 'deepseek_v2',
      vocab_size: 40,
      hidden_size: 16,
      intermediate_size: 24,
      moe_intermediate_size: 8,
      num_hidden_layers: 3,
      num_attention_heads: 2,
      n_routed_experts: 4,
      n_shared_experts: 1,
      num_experts_per_tok: 2,
      first_k_dense_replace: 1,
      kv_lora_rank: 8,
      q_lora_rank: null,
      qk_rope_head_dim: 4,
      qk_nope_head_dim: 6,
      v_head_dim: 5,
      max_position_embeddings: 32,
    },
  ],
};

for (const family of Object.keys(ENGINE_FAMILIES)) {
  const configs = HF[family];
  test(
    `${family}: analytic count = tensors the engine allocates`,
    { skip: configs ? false : `no tiny ${family} config in this test yet` },
    () => {
      for (const json of configs ?? []) {
        const text = JSON.stringify(json);
        const spec = hfSpec(text);
        checkSame(json, buildHfModel(text, undefined, spec));
      }
    },
  );
}
