#!/usr/bin/env node
// Writes a Llama-family checkpoint of a real model's shapes with seeded random weights (nothing is
// downloaded): config.json + model.safetensors in BF16 (or F16/F32), for benchmarks of real sizes.
//   node tools/make_random_llama.mjs OUT_DIR [--shape tinyllama-1.1b|qwen2.5-1.5b|llama-3.2-1b] [--dtype BF16|F16|F32]
// Not committed: a 1.1B BF16 checkpoint is 2.2 GB. Weights: uniform ±1/√fan_in (nn.Linear's default
// bound), embeddings ±√3·0.02, norms 1 — so activations stay finite through every layer.
import * as fs from 'node:fs';
import * as path from 'node:path';

const SHAPES = {
  'tinyllama-1.1b': { model_type: 'llama', hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22, num_attention_heads: 32, num_key_value_heads: 4, vocab_size: 32000, max_position_embeddings: 2048, rope_theta: 10000, rms_norm_eps: 1e-5, tie_word_embeddings: false },
  'qwen2.5-1.5b': { model_type: 'qwen2', hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, rope_theta: 1000000, rms_norm_eps: 1e-6, tie_word_embeddings: true },
  'llama-3.2-1b': { model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072, rope_theta: 500000, rms_norm_eps: 1e-5, tie_word_embeddings: true },
};

const args = process.argv.slice(2);
const out = args.find((a) => !a.startsWith('--') && !['--shape', '--dtype'].includes(args[args.indexOf(a) - 1]));
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const shapeName = opt('--shape', 'tinyllama-1.1b');
const dtype = opt('--dtype', 'BF16');
const cfg = SHAPES[shapeName];
if (!out || !cfg || !['BF16', 'F16', 'F32'].includes(dtype)) {
  console.error(`usage: node tools/make_random_llama.mjs OUT_DIR [--shape ${Object.keys(SHAPES).join('|')}] [--dtype BF16|F16|F32]`);
  process.exit(1);
}

const D = cfg.hidden_size;
const F = cfg.intermediate_size;
const hd = D / cfg.num_attention_heads;
const kv = cfg.num_key_value_heads * hd;
const bias = cfg.model_type === 'qwen2';
/** [name, shape, bound | 'ones'] in the order Hugging Face writes them. */
const tensors = [['model.embed_tokens.weight', [cfg.vocab_size, D], Math.sqrt(3) * 0.02]];
for (let i = 0; i < cfg.num_hidden_layers; i++) {
  const p = `model.layers.${i}.`;
  tensors.push([`${p}input_layernorm.weight`, [D], 'ones']);
  for (const [n, rows] of [['q_proj', D], ['k_proj', kv], ['v_proj', kv]]) {
    tensors.push([`${p}self_attn.${n}.weight`, [rows, D], 1 / Math.sqrt(D)]);
    if (bias) tensors.push([`${p}self_attn.${n}.bias`, [rows], 1 / Math.sqrt(D)]);
  }
  tensors.push([`${p}self_attn.o_proj.weight`, [D, D], 1 / Math.sqrt(D)]);
  tensors.push([`${p}post_attention_layernorm.weight`, [D], 'ones']);
  tensors.push([`${p}mlp.gate_proj.weight`, [F, D], 1 / Math.sqrt(D)]);
  tensors.push([`${p}mlp.up_proj.weight`, [F, D], 1 / Math.sqrt(D)]);
  tensors.push([`${p}mlp.down_proj.weight`, [D, F], 1 / Math.sqrt(F)]);
}
tensors.push(['model.norm.weight', [D], 'ones']);
if (!cfg.tie_word_embeddings) tensors.push(['lm_head.weight', [cfg.vocab_size, D], 1 / Math.sqrt(D)]);

const bytesPer = dtype === 'F32' ? 4 : 2;
const header = {};
let offset = 0;
for (const [name, shape] of tensors) {
  const n = shape.reduce((a, b) => a * b, 1);
  header[name] = { dtype, shape, data_offsets: [offset, offset + n * bytesPer] };
  offset += n * bytesPer;
}
header.__metadata__ = { format: 'pt', source: `tools/make_random_llama.mjs --shape ${shapeName} --dtype ${dtype} (random weights)` };
let json = JSON.stringify(header);
json += ' '.repeat((8 - (json.length % 8)) % 8);

fs.mkdirSync(out, { recursive: true });
const arch = cfg.model_type === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM';
fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify({ architectures: [arch], ...cfg, hidden_act: 'silu', torch_dtype: dtype === 'BF16' ? 'bfloat16' : dtype === 'F16' ? 'float16' : 'float32' }, null, 2));
const fd = fs.openSync(path.join(out, 'model.safetensors'), 'w');
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(json.length));
fs.writeSync(fd, len);
fs.writeSync(fd, json);

// mulberry32, seeded per tensor: the same checkpoint every time.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(v) {
  // Round to nearest even, F16 normal range only (the bounds here are far from F16's limits).
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 127 + 15;
  if (e <= 0) return sign;
  const m = x & 0x7fffff;
  let h = sign | (e << 10) | (m >>> 13);
  if ((m & 0x1fff) > 0x1000 || ((m & 0x1fff) === 0x1000 && (h & 1))) h++;
  return h;
}
const CHUNK = 1 << 20;
let written = 0;
tensors.forEach(([name, shape, bound], ti) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const rand = rng(ti * 7919 + 1);
  for (let i0 = 0; i0 < n; i0 += CHUNK) {
    const m = Math.min(CHUNK, n - i0);
    const buf = Buffer.alloc(m * bytesPer);
    for (let i = 0; i < m; i++) {
      const v = bound === 'ones' ? 1 : (rand() * 2 - 1) * bound;
      if (dtype === 'F32') buf.writeFloatLE(v, i * 4);
      else if (dtype === 'BF16') {
        f32[0] = v;
        const x = u32[0];
        buf.writeUInt16LE(((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff, i * 2);
      } else buf.writeUInt16LE(toHalf(v), i * 2);
    }
    fs.writeSync(fd, buf);
    written += buf.length;
  }
  void name;
});
fs.closeSync(fd);
console.log(`wrote ${out}: ${shapeName}, ${dtype}, ${tensors.length} tensors, ${(written / 1e9).toFixed(2)} GB of weights`);
