import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import type { JsonObject, JsonValue } from '../../engine/config/json';
import { InspectorError } from '../../engine/errors';
import { analyzeConfig, analyzeFile, parseConfigText } from '../../engine/analysis';
import { analysisToJson, stringifyExact } from '../../engine/analysis/report';
import { runParams } from '../../engine/cli/params';

/** Absurd or hostile configs get a clear error naming the key, or a correct big number: never a hang or a crash. */

const llama: JsonObject = {
  model_type: 'llama',
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
};

function throwsKey(json: JsonValue, key: string, message?: RegExp): void {
  assert.throws(
    () => analyzeConfig(json),
    (e: unknown) => {
      assert.ok(e instanceof InspectorError, `an InspectorError, got ${String(e)}`);
      assert.equal(e.place.key, key);
      if (message) assert.match(e.message, message);
      return true;
    },
  );
}

test('inconsistent or wrong values are errors that name the key', () => {
  throwsKey({ ...llama, hidden_size: -4096 }, 'hidden_size', /≥ 1/);
  throwsKey({ ...llama, num_hidden_layers: 'thirty-two' }, 'num_hidden_layers', /integer/);
  throwsKey({ ...llama, num_hidden_layers: 32.5 }, 'num_hidden_layers');
  throwsKey({ ...llama, vocab_size: 1e300 }, 'vocab_size', /too large/);
  throwsKey({ ...llama, hidden_size: [1, 2] }, 'hidden_size');
  throwsKey({ ...llama, num_attention_heads: 31 }, 'num_attention_heads', /divisible/);
  throwsKey({ ...llama, num_key_value_heads: 5 }, 'num_key_value_heads', /divide/);
  throwsKey({ ...llama, num_key_value_heads: 64 }, 'num_key_value_heads');
  throwsKey({ ...llama, tie_word_embeddings: 'yes' }, 'tie_word_embeddings');
  throwsKey(
    { ...llama, model_type: 'mixtral', num_local_experts: 8, num_experts_per_tok: 9 },
    'num_experts_per_tok',
  );
  throwsKey({ ...llama, model_type: 'gemma2', layer_types: ['full_attention'] }, 'layer_types');
  throwsKey({ model_type: 'deepseek_v3', moe_layer_freq: 1e9 }, 'moe_layer_freq');
  throwsKey({ model_type: 'qwen2_moe', mlp_only_layers: [1, -2] }, 'mlp_only_layers[1]');
  throwsKey({ model_type: 'gpt2', n_embd: 768, n_head: 7 }, 'n_head');
  throwsKey({ model_type: 'bart', d_model: 768, encoder_attention_heads: 5 }, 'encoder_attention_heads');
  throwsKey({ ...llama, architectures: 'LlamaForCausalLM' }, 'architectures');
  throwsKey(
    { ...llama, quantization_config: { quant_method: 'gptq', bits: 'four' } },
    'quantization_config.bits',
  );
  throwsKey({ model_type: 'not_a_model' }, 'model_type', /not one the analysis knows/);
  throwsKey({ model_type: 7 }, 'model_type');
  throwsKey({ hidden_size: 16 }, 'model_type', /missing/);
  throwsKey({ vocab_size: 10, d_model: 7, num_heads: 2, d_ff: 4, num_layers: 1, max_len: 4 }, 'num_heads');
  assert.throws(() => analyzeConfig([1, 2, 3]), InspectorError);
  assert.throws(() => analyzeConfig('config'), InspectorError);
  assert.throws(() => analyzeConfig(llama, { dtype: 'fp12' }), /dtype/);
  assert.throws(() => analyzeConfig(llama, { context: 0 }), /context/);
  assert.throws(() => analyzeConfig(llama, { batch: 1.5 }), /batch/);
});

test('unknown fields and deeply nested junk under them are ignored; missing fields take the documented defaults', () => {
  let junk: JsonValue = 1;
  for (let i = 0; i < 200; i++) junk = { a: [junk, 'x', null] };
  const a = analyzeConfig({ ...llama, some_future_key: junk, rope_scaling: { type: 'yarn', factor: 'x' } });
  assert.equal(a.params.total, 6_738_415_616n);
  assert.equal(
    analyzeConfig({ model_type: 'llama' }).params.total,
    6_738_415_616n,
    'LlamaConfig() defaults are Llama-2-7B',
  );
  assert.equal(analyzeConfig({ model_type: 'gpt2' }).params.total, 124_439_808n);
  assert.equal(analyzeConfig({ model_type: 'bert' }).params.total, 109_482_240n);
  assert.equal(analyzeConfig({ model_type: 't5' }).params.total, 60_506_624n);
  assert.equal(analyzeConfig({ model_type: 'deepseek_v3' }).params.total, 671_026_419_200n);
});

test('10^15 layers give an exact number past 2^53, printed exactly in JSON', () => {
  const L = 10n ** 15n;
  const a = analyzeConfig({ ...llama, num_hidden_layers: Number(L) }, { context: 10n ** 12n });
  const perLayer = 202_383_360n;
  assert.equal(a.params.total, perLayer * L + 2n * 32000n * 4096n + 4096n);
  assert.ok(a.params.total > 2n ** 53n);
  const text = stringifyExact(analysisToJson(a));
  assert.match(text, new RegExp(`"total": ${a.params.total}[,\\n]`));
  assert.match(text, new RegExp(`"flops_per_token": ${a.flops.perToken}[,\\n]`));
  assert.ok(a.flops.perToken > 10n ** 30n);
  const huge = analyzeConfig({
    ...llama,
    vocab_size: 2 ** 52,
    hidden_size: 2 ** 50,
    num_attention_heads: 2 ** 40,
    intermediate_size: 2 ** 52,
  });
  assert.equal(huge.params.byCategory.embeddings, 2n ** 102n);
});

test('a context so long that FLOPs pass 2^53 is exact', () => {
  const a = analyzeConfig(llama, { context: 2n ** 60n, batch: 3n });
  assert.equal(a.flops.attention, 32n * 2n * 32n * 256n * 2n ** 60n);
  assert.equal(a.kv.bytesForContext, 524_288n * 2n ** 60n * 3n);
});

test('random junk merged into real configs: an InspectorError or a result, fast, never anything else', () => {
  const types = [
    'llama',
    'mistral',
    'qwen2',
    'gemma',
    'gemma2',
    'phi3',
    'mixtral',
    'qwen2_moe',
    'deepseek_v2',
    'deepseek_v3',
    'gpt2',
    'bert',
    't5',
    'bart',
    'marian',
  ];
  const keys = [
    'vocab_size',
    'hidden_size',
    'intermediate_size',
    'num_hidden_layers',
    'num_attention_heads',
    'num_key_value_heads',
    'head_dim',
    'num_local_experts',
    'num_experts',
    'num_experts_per_tok',
    'n_routed_experts',
    'n_shared_experts',
    'first_k_dense_replace',
    'moe_layer_freq',
    'decoder_sparse_step',
    'mlp_only_layers',
    'layer_types',
    'sliding_window',
    'use_sliding_window',
    'max_window_layers',
    'q_lora_rank',
    'kv_lora_rank',
    'tie_word_embeddings',
    'architectures',
    'quantization_config',
    'n_embd',
    'n_layer',
    'n_head',
    'd_model',
    'num_layers',
    'num_heads',
    'd_kv',
    'encoder_layers',
    'decoder_layers',
    'id2label',
    'num_nextn_predict_layers',
  ];
  const value = fc.oneof(
    fc.integer({ min: -5, max: 5 }),
    fc.integer({ min: 0, max: 2 ** 20 }),
    fc.constantFrom(0, 1, 2, 1e15, 2 ** 53, -1, 0.5, NaN, null, true, 'x', '12'),
    fc.array(
      fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constantFrom('sliding_attention', 'full_attention')),
      { maxLength: 40 },
    ),
    fc.jsonValue({ maxDepth: 4 }),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...types),
      fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 }),
      (model_type, junk) => {
        const t0 = performance.now();
        try {
          const a = analyzeConfig({ model_type, ...(junk as JsonObject) });
          assert.ok(a.params.total >= 0n && a.params.active <= a.params.total);
          stringifyExact(analysisToJson(a));
        } catch (e) {
          if (!(e instanceof InspectorError)) throw e;
          assert.ok(e.place.key, `the error names a key: ${e.message}`);
        }
        assert.ok(performance.now() - t0 < 1000, 'no hang');
      },
    ),
    { numRuns: 400 },
  );
});

test('config text nested deeper than any config is refused before parsing', () => {
  const deep = '{"a":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
  assert.throws(() => parseConfigText(deep, 'deep.json'), /nested deeper/);
});

test('CLI params: table, --json with exact integers, and exit codes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-params-'));
  try {
    const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await runParams(argv, { out: (t) => (out += t), err: (t) => (err += t) });
      return { code, out, err };
    };
    const mistral = path.join(__dirname, '..', 'fixtures', 'configs', 'mistral-7b-v0.1');
    const table = await run([mistral]);
    assert.equal(table.code, 0);
    assert.match(table.out, /7,241,732,096/);
    assert.match(table.out, /131,072 B = 32 layers × 2 \(K, V\) × 8 kv heads × 128 × 2 B/);
    const j = await run([mistral, '--json', '--dtype', 'fp16', '--context', '8192', '--batch', '4']);
    assert.equal(j.code, 0);
    const obj = JSON.parse(j.out);
    assert.equal(obj.total, 7_241_732_096);
    assert.equal(obj.active, 7_241_732_096);
    assert.equal(obj.kv_cache_bytes_per_token, 131_072);
    assert.equal(obj.kv_cache.bytes_for_context, 131_072 * 4096 * 4);
    assert.equal(typeof obj.flops_per_token, 'number');
    assert.equal(obj.weights_bytes.bf16, 2 * 7_241_732_096);
    assert.ok(Array.isArray(obj.components.children));

    const big = path.join(dir, 'config.json');
    fs.writeFileSync(big, JSON.stringify({ ...llama, num_hidden_layers: 1e15 }));
    const b = await run([big, '--json']);
    assert.equal(b.code, 0);
    assert.match(b.out, /"total": 202383360000000262148096,/);

    fs.writeFileSync(big, JSON.stringify({ ...llama, num_attention_heads: 'many' }));
    const bad = await run([dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /config\.json, key 'num_attention_heads'/);
    assert.equal((await run([])).code, 2);
    assert.equal((await run([mistral, '--dtype', 'fp7'])).code, 2);
    assert.equal((await run([mistral, '--context', '-3'])).code, 2);
    assert.equal((await run([mistral, '--frobnicate'])).code, 2);
    assert.equal((await run([path.join(dir, 'nope')])).code, 1);
    const native = path.join(dir, 'tiny.transformer.json');
    fs.writeFileSync(
      native,
      JSON.stringify({ vocab_size: 40, d_model: 16, num_heads: 4, d_ff: 32, num_layers: 2, max_len: 12 }),
    );
    // embedding + 2 × (attention + 2 norms + FFN) + final norm + fc_out with its bias
    assert.equal(
      analyzeFile(native).params.total,
      BigInt(
        40 * 16 + 2 * (4 * (16 * 16 + 16) + 2 * 32 + (16 * 32 + 32) + (32 * 16 + 16)) + 32 + (40 * 16 + 40),
      ),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
