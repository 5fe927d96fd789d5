/**
 * Write a random-weight BF16 checkpoint of a Llama config's real shapes as sharded safetensors
 * (model-0000i-of-0000n.safetensors + model.safetensors.index.json), for the layer-streaming benchmark in
 * docs/performance.md. Nothing is held whole: each tensor is written from one repeated 1 MiB block of
 * small random bf16 values (so a 7B checkpoint takes the disk's time, not the CPU's).
 *
 *   node --import tsx tools/bench/gen_checkpoint.ts examples/hf/llama-2-7b/config.json OUT_DIR [--shard-gb 4]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fillUniform } from '../../engine/model/rng';

const [configPath, outDir, ...rest] = process.argv.slice(2);
if (!configPath || !outDir) throw new Error('usage: gen_checkpoint.ts CONFIG OUT_DIR [--shard-gb N]');
const shardBytes = Number(rest[rest.indexOf('--shard-gb') + 1] ?? 4) * 1e9 || 4e9;
const cfg = JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, number | boolean | string>;
const d = cfg.hidden_size as number;
const ff = cfg.intermediate_size as number;
const H = cfg.num_attention_heads as number;
const Hkv = (cfg.num_key_value_heads as number | undefined) ?? H;
const hd = d / H;
const V = cfg.vocab_size as number;

const tensors: [string, number[]][] = [['model.embed_tokens.weight', [V, d]]];
for (let i = 0; i < (cfg.num_hidden_layers as number); i++) {
  const p = `model.layers.${i}.`;
  tensors.push(
    [`${p}input_layernorm.weight`, [d]],
    [`${p}self_attn.q_proj.weight`, [H * hd, d]],
    [`${p}self_attn.k_proj.weight`, [Hkv * hd, d]],
    [`${p}self_attn.v_proj.weight`, [Hkv * hd, d]],
    [`${p}self_attn.o_proj.weight`, [d, H * hd]],
    [`${p}post_attention_layernorm.weight`, [d]],
    [`${p}mlp.gate_proj.weight`, [ff, d]],
    [`${p}mlp.up_proj.weight`, [ff, d]],
    [`${p}mlp.down_proj.weight`, [d, ff]],
  );
}
tensors.push(['model.norm.weight', [d]]);
if (!cfg.tie_word_embeddings) tensors.push(['lm_head.weight', [V, d]]);

// One block of bf16 values: uniform in ±1/√d (norm gains near 1 would need their own block; the benchmark
// times reading and compute, not the numbers).
const BLOCK = 1 << 19; // values
const f32 = new Float32Array(BLOCK);
fillUniform(f32, 1 / Math.sqrt(d), 7);
const block = Buffer.alloc(BLOCK * 2);
const u32 = new Uint32Array(f32.buffer);
for (let i = 0; i < BLOCK; i++) block.writeUInt16LE(u32[i] >>> 16, i * 2);

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const shards: [string, number[]][][] = [[]];
let size = 0;
for (const t of tensors) {
  const bytes = numel(t[1]) * 2;
  if (size + bytes > shardBytes && shards.at(-1)!.length) {
    shards.push([]);
    size = 0;
  }
  shards.at(-1)!.push(t);
  size += bytes;
}
fs.mkdirSync(outDir, { recursive: true });
fs.copyFileSync(configPath, path.join(outDir, 'config.json'));
const weightMap: Record<string, string> = {};
shards.forEach((list, s) => {
  const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of list) {
    const bytes = numel(shape) * 2;
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
    weightMap[name] = file;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const fd = fs.openSync(path.join(outDir, file), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeSync(fd, len);
  fs.writeSync(fd, json);
  for (const [, shape] of list) {
    let left = numel(shape) * 2;
    while (left > 0) {
      const n = Math.min(left, block.length);
      fs.writeSync(fd, block, 0, n);
      left -= n;
    }
  }
  fs.closeSync(fd);
  console.log(`wrote ${file} (${(offset / 1e9).toFixed(2)} GB, ${list.length} tensors)`);
});
fs.writeFileSync(path.join(outDir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 1));
