import * as fs from 'node:fs';
import * as path from 'node:path';
import { InspectorError } from '../errors';
import { isObject, loadJsonFile } from '../config/json';
import type { LoadedModel } from '../model/load';
import type { QuantizedModel } from './quantize-model';
import { packAwq, packGptq } from './packing';

/**
 * `quantize … --out DIR`: a Hugging Face folder with the tokenizer files and a config.json whose
 * `quantization_config` names the layout. RTN and GPTQ: AutoGPTQ's (quant_method gptq, checkpoint_format
 * gptq; X.qweight/X.qzeros/X.scales/X.g_idx). AWQ: AutoAWQ's GEMM layout (X.qweight/X.qzeros/X.scales), with
 * each scale s folded into the norm before the layers it scales (the norm's gain divided by s), as AutoAWQ
 * ships its checkpoints. Scales are fp16, as both store them; every other tensor is float32.
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

export function writeQuantizedCheckpoint(dir: string, loaded: LoadedModel, quantized: QuantizedModel): string[] {
  const { method, bits, group, sym, actOrder, percdamp } = quantized.options;
  if (method !== 'gptq' && method !== 'rtn' && method !== 'awq') {
    throw new InspectorError(`--out writes checkpoints of --method gptq, rtn (AutoGPTQ layout) or awq (AutoAWQ layout); ${method} is not written`);
  }
  if (path.basename(loaded.configPath) !== 'config.json') {
    throw new InspectorError('--out writes a Hugging Face folder: the model must come from a config.json', { file: loaded.configPath });
  }
  if (quantized.derived.length) {
    throw new InspectorError(`--out needs every linear's weight as a tensor of the checkpoint; ${quantized.derived.slice(0, 3).join(', ')} are derived (transposed or sliced) copies`, { file: loaded.configPath });
  }
  const config = loadJsonFile(loaded.configPath, 'config');
  if (!isObject(config)) throw new InspectorError('config.json must be an object', { file: loaded.configPath });
  const tensors = new Map<string, RawTensor>();
  const replaced = new Set<string>();
  // AWQ: every layer's s must fold into the norm before it (quantize with foldableOnly).
  const folded = new Set(quantized.folds.flatMap((f) => f.layers));
  for (const [layer, qw] of quantized.codes) {
    const N = qw.rows;
    const G = qw.groups;
    if (method === 'awq') {
      if (qw.inputScale && !folded.has(layer) && qw.inputScale.some((v) => v !== 1)) {
        throw new InspectorError(`the AWQ scale of ${layer} has no preceding norm to fold into; quantize with foldable scales only`, { tensor: `${layer}.weight` });
      }
      const p = packAwq(qw, `${layer}.weight`);
      tensors.set(`${layer}.qweight`, i32(p.qweight, [qw.columns, p.qweight.length / qw.columns]));
      tensors.set(`${layer}.qzeros`, i32(p.qzeros, [G, p.qzeros.length / G]));
      tensors.set(`${layer}.scales`, f16(p.scales, [G, N]));
    } else {
      const p = packGptq(qw, `${layer}.weight`);
      tensors.set(`${layer}.qweight`, i32(p.qweight, [p.qweight.length / N, N]));
      tensors.set(`${layer}.qzeros`, i32(p.qzeros, [G, p.qzeros.length / G]));
      tensors.set(`${layer}.scales`, f16(p.scales, [G, N]));
      tensors.set(`${layer}.g_idx`, i32(p.gIdx, [qw.columns]));
    }
    replaced.add(`${layer}.weight`);
  }
  const foldedParams = new Map<string, Float32Array>();
  for (const f of quantized.folds) {
    const g = loaded.model.parameters.get(f.weight)!.data;
    // The norm computes x̂·(gainOffset + g); dividing that product by s: g' = (gainOffset + g)/s − gainOffset.
    foldedParams.set(f.weight, Float32Array.from(g, (v, k) => (f.gainOffset + v) / f.scale[k] - f.gainOffset));
    if (f.bias) foldedParams.set(f.bias, Float32Array.from(loaded.model.parameters.get(f.bias)!.data, (v, k) => v / f.scale[k]));
  }
  for (const [name, t] of loaded.model.parameters) {
    if (!replaced.has(name)) tensors.set(name, f32(foldedParams.get(name) ?? t.data, [...t.shape]));
  }
  const quantizationConfig =
    method === 'awq'
      ? { quant_method: 'awq', bits, group_size: group ?? -1, zero_point: true, version: 'gemm' }
      : {
          quant_method: 'gptq',
          bits,
          group_size: group ?? -1,
          desc_act: actOrder === true,
          sym: sym === true,
          damp_percent: percdamp ?? 0.01,
          static_groups: false,
          true_sequential: true,
          checkpoint_format: 'gptq',
        };
  fs.mkdirSync(dir, { recursive: true });
  const written = [path.join(dir, 'config.json'), path.join(dir, 'model.safetensors')];
  fs.writeFileSync(written[0], JSON.stringify({ ...config, quantization_config: quantizationConfig }, null, 2) + '\n');
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
