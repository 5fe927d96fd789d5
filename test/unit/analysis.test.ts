import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeConfig, analyzeFile, type Analysis } from '../../engine/analysis';

/**
 * Published exact parameter counts, each checked by hand from the architecture (docs/analysis.md shows
 * the arithmetic for the harder ones), against real config.json files in test/fixtures/configs.
 */

const FIX = path.join(__dirname, '..', 'fixtures', 'configs');
const load = (name: string, opts: { dtype?: string; context?: bigint; batch?: bigint } = {}): Analysis =>
  analyzeFile(path.join(FIX, name, 'config.json'), opts);
const conv = (a: Analysis, key: string): bigint | undefined =>
  a.conventions.find((c) => c.key === key)?.params;

test('gpt2: 124,439,808 (GPT2LMHeadModel, LM head tied to wte)', () => {
  const a = load('gpt2');
  assert.equal(a.params.total, 124_439_808n);
  assert.equal(a.params.base, 124_439_808n, 'tied head adds nothing');
  assert.equal(a.params.active, a.params.total);
  assert.equal(a.params.nonEmbedding, 124_439_808n - 50257n * 768n - 1024n * 768n);
});

test('bert-base-uncased: BertModel 109,482,240 with its pooler; BertForMaskedLM 109,514,298', () => {
  const a = load('bert-base-uncased');
  assert.equal(a.modelClass, 'BertForMaskedLM');
  assert.equal(a.params.total, 109_514_298n);
  assert.equal(a.params.base, 109_482_240n);
  assert.equal(conv(a, 'base'), 109_482_240n);
  assert.equal(a.kv.bytesPerToken, 0n, 'an encoder keeps no KV cache');
});

test('Llama-2-7b: 6,738,415,616; fp16 weights 13.48 GB; MHA KV cache 512 KiB per token', () => {
  const a = load('llama-2-7b');
  assert.equal(a.params.total, 6_738_415_616n);
  assert.equal(a.params.base, 6_738_415_616n - 32000n * 4096n);
  assert.equal(a.memory.find((m) => m.key === 'fp16')?.bytes, 13_476_831_232n);
  assert.ok(a.memory.find((m) => m.key === 'fp16')?.stored, 'torch_dtype float16 marks the fp16 row');
  assert.equal(a.kv.bytesPerToken, 32n * 2n * 32n * 128n * 2n);
});

test('Mistral-7B-v0.1: 7,241,732,096; bf16 KV cache 131,072 B per token, capped at the 4096 window', () => {
  const a = load('mistral-7b-v0.1', { context: 32768n, batch: 2n });
  assert.equal(a.params.total, 7_241_732_096n);
  assert.equal(a.kv.bytesPerToken, 131_072n);
  assert.equal(a.kv.bytesForContext, 131_072n * 4096n * 2n, 'sliding-window layers hold 4096 tokens');
  const short = load('mistral-7b-v0.1', { context: 1000n });
  assert.equal(short.kv.bytesForContext, 131_072n * 1000n);
  assert.equal(load('mistral-7b-v0.1', { dtype: 'fp32' }).kv.bytesPerToken, 262_144n);
  assert.equal(load('mistral-7b-v0.1', { dtype: 'int4' }).kv.bytesPerToken, 32_768n);
});

test('dense decoders: TinyLlama 1,100,048,384; Qwen2-0.5B 494,032,768 (tied); gemma-2b 2,506,172,416; Phi-3-mini 3,821,079,552', () => {
  assert.equal(load('tinyllama-1.1b').params.total, 1_100_048_384n);
  const q = load('qwen2-0.5b');
  assert.equal(q.params.total, 494_032_768n);
  assert.equal(q.kv.bytesPerToken, 24n * 2n * 2n * 64n * 2n, 'GQA: 2 kv heads');
  assert.equal(q.kv.groups[0].kind, 'grouped-query');
  const g = load('gemma-2b');
  assert.equal(g.params.total, 2_506_172_416n);
  assert.equal(g.kv.groups[0].kind, 'multi-query');
  assert.equal(g.kv.bytesPerToken, 18n * 2n * 1n * 256n * 2n);
  const p = load('phi-3-mini-4k');
  assert.equal(p.params.total, 3_821_079_552n);
  assert.equal(p.kv.groups[0].window, 2047n);
});

test('more dense decoders from their sizes: Llama-3-8B 8,030,261,248; gemma-7b 8,537,680,896 (head_dim ≠ width/heads); Qwen2-7B 7,615,616,512', () => {
  const llama3 = {
    model_type: 'llama',
    vocab_size: 128256,
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    max_position_embeddings: 8192,
    rope_theta: 500000.0,
  };
  assert.equal(analyzeConfig(llama3).params.total, 8_030_261_248n);
  const gemma7b = {
    model_type: 'gemma',
    vocab_size: 256000,
    hidden_size: 3072,
    intermediate_size: 24576,
    num_hidden_layers: 28,
    num_attention_heads: 16,
    num_key_value_heads: 16,
    head_dim: 256,
  };
  assert.equal(analyzeConfig(gemma7b).params.total, 8_537_680_896n);
  const qwen7b = {
    model_type: 'qwen2',
    vocab_size: 152064,
    hidden_size: 3584,
    intermediate_size: 18944,
    num_hidden_layers: 28,
    num_attention_heads: 28,
    num_key_value_heads: 4,
    tie_word_embeddings: false,
  };
  assert.equal(analyzeConfig(qwen7b).params.total, 7_615_616_512n);
});

test('gemma-2: 2b 2,614,341,888 and 9b 9,241,705,984; sliding layers alternate with global ones', () => {
  const a = load('gemma-2-2b', { context: 8192n });
  assert.equal(a.params.total, 2_614_341_888n);
  assert.equal(load('gemma-2-9b').params.total, 9_241_705_984n);
  const perLayer = 2n * 4n * 256n * 2n;
  assert.equal(a.kv.bytesPerToken, 26n * perLayer);
  // 13 sliding layers hold 4096 tokens, 13 global layers all 8192.
  assert.equal(a.kv.bytesForContext, 13n * perLayer * 4096n + 13n * perLayer * 8192n);
});

test('Mixtral-8x7B: 46,702,792,704 total, 12,879,925,248 active (2 of 8 experts)', () => {
  const a = load('mixtral-8x7b');
  assert.equal(a.params.total, 46_702_792_704n);
  assert.equal(a.params.active, 12_879_925_248n);
  assert.equal(a.kv.bytesPerToken, 131_072n);
  // Active FLOPs: 2 × active weights except the embedding lookup, plus attention.
  assert.equal(a.flops.matmul, 2n * (a.params.active - 32000n * 4096n - 32n * 2n * 4096n - 4096n));
});

test('Qwen1.5-MoE-A2.7B: 14,315,784,192 total, 2,689,173,504 active (4 of 60 experts + shared expert)', () => {
  const a = load('qwen1.5-moe-a2.7b');
  assert.equal(a.params.total, 14_315_784_192n);
  assert.equal(a.params.active, 2_689_173_504n);
});

test('DeepSeek-V2-Lite: 15,706,484,224 total, 2,661,150,208 active; MLA caches 576 values per layer', () => {
  const a = load('deepseek-v2-lite', { context: 4096n });
  assert.equal(a.params.total, 15_706_484_224n);
  assert.equal(a.params.active, 2_661_150_208n);
  assert.equal(a.params.activeNonEmbeddingLookup, 2_451_435_008n, 'the "2.4B activated" DeepSeek quotes');
  assert.equal(a.kv.bytesPerToken, 27n * 576n * 2n);
  assert.equal(a.kv.naive?.bytesPerToken, 27n * 16n * (192n + 128n) * 2n);
});

test('DeepSeek-V2: 235,741,434,880 total, 21,375,800,320 active', () => {
  const a = load('deepseek-v2');
  assert.equal(a.params.total, 235_741_434_880n);
  assert.equal(a.params.active, 21_375_800_320n);
});

test('DeepSeek-V3: 671,026,419,200 main model, 684,489,845,504 with the MTP module; 37.55B active; 70,272 B KV per token', () => {
  const a = load('deepseek-v3', { context: 4096n });
  assert.equal(a.params.total, 671_026_419_200n);
  assert.equal(a.params.withExtra, 684_489_845_504n);
  assert.equal(a.params.active, 37_552_297_472n);
  assert.equal(a.params.activeNonEmbeddingLookup, 36_625_618_432n);
  assert.equal(
    a.params.torch,
    671_026_419_200n - 58n * 256n,
    'transformers keeps e_score_correction_bias as a buffer',
  );
  assert.equal(a.kv.bytesPerToken, 70_272n);
  assert.equal(a.kv.naive?.bytesPerToken, 4_997_120n);
  const fp8 = a.memory.find((m) => m.key === 'fp8_block128x128');
  assert.ok(fp8?.stored);
});

test('encoder-decoders: t5-small 60,506,624; bart-base 139,420,416; bart-large 406,291,456; opus-mt-en-de 74,410,496 (73,886,208 learned)', () => {
  const t5 = load('t5-small');
  assert.equal(t5.params.total, 60_506_624n);
  const bart = load('bart-base');
  assert.equal(bart.params.total, 139_420_416n);
  assert.equal(load('bart-large').params.total, 406_291_456n);
  const m = load('opus-mt-en-de');
  assert.equal(
    m.params.total,
    74_410_496n,
    'the two frozen 512 × 512 sinusoid tables count, as in transformers and the engine',
  );
  assert.equal(m.params.learned, 73_886_208n);
  assert.equal(m.params.torch, null);
  assert.ok(m.buffers.some((b) => b.name === 'final_logits_bias'));
  // Decoder self-attention per target token; cross-attention K/V per source token.
  assert.equal(m.kv.bytesPerToken, 6n * 2n * 512n * 2n);
  assert.equal(m.kv.cross?.bytesPerSourceToken, 6n * 2n * 512n * 2n);
  assert.equal(t5.flops.perToken, (t5.flops.encoderPerToken ?? 0n) + (t5.flops.decoderPerToken ?? 0n));
});

test('GPTQ config: int4 group 128 from quantization_config, with scales, zero points and g_idx', () => {
  const a = load('llama-2-7b-gptq');
  const row = a.memory.find((m) => m.key === 'int4_g128');
  assert.ok(row?.stored);
  const matrices = 32n * (4n * 4096n * 4096n + 3n * 4096n * 11008n);
  const groups = matrices / 128n;
  const gIdx = 32n * (6n * 4096n + 11008n) * 4n;
  const rest = (6_738_415_616n - matrices) * 2n;
  assert.equal(row?.bytes, matrices / 2n + groups * 2n + groups / 2n + gIdx + rest);
});

test('FLOPs per token: 2 × weights in matmuls plus attention that grows with context', () => {
  const a = load('llama-2-7b', { context: 1n });
  const b = load('llama-2-7b', { context: 4097n });
  const weights = 6_738_415_616n - 32000n * 4096n - 32n * 2n * 4096n - 4096n; // minus the lookup and norms
  assert.equal(a.flops.matmul, 2n * weights);
  assert.equal(a.flops.attention, 32n * 2n * 32n * (128n + 128n));
  assert.equal(b.flops.attention - a.flops.attention, 4096n * 32n * 2n * 32n * 256n);
});

test('analysing the DeepSeek-V3 config 100 times takes well under 2 s (a loose sanity bound, not a benchmark)', () => {
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) load('deepseek-v3');
  assert.ok(performance.now() - t0 < 2000);
});
