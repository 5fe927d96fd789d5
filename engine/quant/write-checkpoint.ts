import * as fs from 'node:fs';
import * as path from 'node:path';
import { InspectorError } from '../errors';
import { isObject, parseJsonText } from '../config/json';
import type { LoadedModel } from '../model/load';
import type { QuantizedModel } from './quantize-model';
import { packGptq } from './packing';

/**
 * `quantize … --out DIR`: a Hugging Face folder in AutoGPTQ's layout (config.json with a
 * `quantization_config` of quant_method gptq, checkpoint_format gptq; model.safetensors with
 * X.qweight/X.qzeros/X.scales/X.g_idx for every quantized linear and the other tensors as float32),
 * plus the tokenizer files. Scales are stored in fp16, as AutoGPTQ stores them.
 */
interface RawTensor {
  dtype: 'F32' | 'F16' | 'I32';
  shape: number[];
  bytes: Buffer;
}

/** Round to the nearest fp16 (ties to even); returns the 16 bits. */
export function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

function f16(values: Float32Array, shape: number[]): RawTensor {
  const bytes = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) bytes.writeUInt16LE(floatToHalf(values[i]), i * 2);
  return { dtype: 'F16', shape, bytes };
}

const i32 = (values: Int32Array, shape: number[]): RawTensor => ({ dtype: 'I32', shape, bytes: Buffer.from(values.buffer, values.byteOffset, values.byteLength) });
const f32 = (values: Float32Array, shape: number[]): RawTensor => ({ dtype: 'F32', shape, bytes: Buffer.from(values.buffer, values.byteOffset, values.byteLength) });

export function encodeRawSafetensors(tensors: Map<string, RawTensor>, metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  return Buffer.concat([len, head, ...[...tensors.values()].map((t) => t.bytes)]);
}

export function writeGptqCheckpoint(dir: string, loaded: LoadedModel, quantized: QuantizedModel): string[] {
  const { method, bits, group, sym, actOrder, percdamp } = quantized.options;
  if (method !== 'gptq' && method !== 'rtn') {
    throw new InspectorError(`--out writes GPTQ-layout checkpoints of --method gptq or rtn; ${method} is not written yet`);
  }
  if (!path.basename(loaded.configPath).startsWith('config.json') || loaded.configPath.endsWith('.transformer.json')) {
    throw new InspectorError('--out writes a Hugging Face folder: the model must come from a config.json', { file: loaded.configPath });
  }
  if (quantized.derived.length) {
    throw new InspectorError(`--out needs every linear's weight as a tensor of the checkpoint; ${quantized.derived.slice(0, 3).join(', ')} are derived (transposed or sliced) copies`, { file: loaded.configPath });
  }
  const config = parseJsonText(fs.readFileSync(loaded.configPath, 'utf8'), loaded.configPath);
  if (!isObject(config)) throw new InspectorError('config.json must be an object', { file: loaded.configPath });
  const tensors = new Map<string, RawTensor>();
  const quantizedWeights = new Set<string>();
  for (const [layer, qw] of quantized.codes) {
    const p = packGptq(qw, `${layer}.weight`);
    const G = qw.groups;
    const N = qw.rows;
    tensors.set(`${layer}.qweight`, i32(p.qweight, [p.qweight.length / N, N]));
    tensors.set(`${layer}.qzeros`, i32(p.qzeros, [G, p.qzeros.length / G]));
    tensors.set(`${layer}.scales`, f16(p.scales, [G, N]));
    tensors.set(`${layer}.g_idx`, i32(p.gIdx, [qw.columns]));
    quantizedWeights.add(`${layer}.weight`);
  }
  for (const [name, t] of loaded.model.parameters) if (!quantizedWeights.has(name)) tensors.set(name, f32(t.data, [...t.shape]));
  const out = {
    ...config,
    quantization_config: {
      quant_method: 'gptq',
      bits,
      group_size: group ?? -1,
      desc_act: actOrder === true,
      sym: sym === true,
      damp_percent: percdamp ?? 0.01,
      static_groups: false,
      true_sequential: true,
      checkpoint_format: 'gptq',
    },
  };
  fs.mkdirSync(dir, { recursive: true });
  const written = [path.join(dir, 'config.json'), path.join(dir, 'model.safetensors')];
  fs.writeFileSync(written[0], JSON.stringify(out, null, 2) + '\n');
  fs.writeFileSync(written[1], encodeRawSafetensors(tensors, { format: 'pt', source: 'transformer-inspector quantize' }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    const from = path.join(path.dirname(loaded.configPath), f);
    if (fs.existsSync(from)) {
      fs.copyFileSync(from, path.join(dir, f));
      written.push(path.join(dir, f));
    }
  }
  return written;
}
