import * as fs from 'node:fs';
import { InspectorError } from '../errors';
import { Tensor, shapeToString } from '../tensor';
import { isObject, parseJsonText } from '../config/json';
import type { SafetensorsFile } from '../io/safetensors';
import type { FileWeights, WeightSource } from '../model/weights';
import { dequantize, type QuantizedWeight } from './rtn';
import { unpackAwq, unpackGptq } from './packing';

/**
 * Hugging Face folders quantized by AutoGPTQ/GPTQModel or AutoAWQ: config.json's `quantization_config`
 * says which; each quantized linear `X` is stored as X.qweight, X.qzeros, X.scales (+ X.g_idx for GPTQ).
 * This source shows the model the float weights `X.weight` [N, K] the engine computes with, dequantized
 * on read (ŵ = scale·(q − zero) in float32), and keeps every other tensor as the file has it.
 */
export interface QuantizationConfig {
  method: 'gptq' | 'awq';
  bits: number;
  /** -1 in the file = one group per row. */
  groupSize: number;
  descAct: boolean;
  sym: boolean;
}

export function readQuantizationConfig(configText: string, file: string): QuantizationConfig | undefined {
  const cfg = parseJsonText(configText, file);
  const q = isObject(cfg) ? cfg.quantization_config : undefined;
  if (q === undefined) return undefined;
  const key = 'quantization_config';
  if (!isObject(q)) throw new InspectorError('quantization_config must be an object', { file, key });
  const method = q.quant_method;
  if (method !== 'gptq' && method !== 'awq') {
    throw new InspectorError(`quant_method ${JSON.stringify(method)} is not supported (have: gptq, awq)`, { file, key: `${key}.quant_method` });
  }
  const bits = q.bits ?? q.w_bit;
  if (typeof bits !== 'number' || ![2, 4, 8].includes(bits) || (method === 'awq' && bits !== 4)) {
    throw new InspectorError(`bits ${JSON.stringify(bits)} is not a packing this reader knows (${method === 'awq' ? '4' : '2, 4, 8'})`, { file, key: `${key}.bits` });
  }
  const group = q.group_size ?? q.q_group_size ?? -1;
  if (typeof group !== 'number' || !Number.isInteger(group) || (group !== -1 && group <= 0)) {
    throw new InspectorError(`group_size must be -1 or a positive integer, got ${JSON.stringify(group)}`, { file, key: `${key}.group_size` });
  }
  if (method === 'awq' && q.version !== undefined && String(q.version).toLowerCase() !== 'gemm') {
    throw new InspectorError(`AWQ version ${JSON.stringify(q.version)} is not supported (have: gemm)`, { file, key: `${key}.version` });
  }
  return { method, bits, groupSize: group, descAct: q.desc_act === true, sym: q.sym !== false };
}

const PARTS = ['qweight', 'qzeros', 'scales', 'g_idx'] as const;

export class QuantizedFileWeights implements WeightSource {
  readonly seeded = false;
  /** Layer prefix → its quantized form, once read. */
  private readonly cache = new Map<string, QuantizedWeight>();
  private readonly layers = new Set<string>();

  constructor(
    readonly inner: FileWeights,
    readonly config: QuantizationConfig,
  ) {
    for (const n of inner.names()) if (n.endsWith('.qweight')) this.layers.add(n.slice(0, -'.qweight'.length));
  }

  get description(): string {
    return `${this.inner.description} (${this.config.method.toUpperCase()} ${this.config.bits}-bit${this.config.groupSize > 0 ? `, groups of ${this.config.groupSize}` : ''})`;
  }

  /** The quantized layers' names (without `.weight`). */
  quantizedLayers(): string[] {
    return [...this.layers];
  }

  names(): string[] {
    const out: string[] = [];
    for (const n of this.inner.names()) {
      const dot = n.lastIndexOf('.');
      const prefix = n.slice(0, dot);
      const part = n.slice(dot + 1);
      if (this.layers.has(prefix) && (PARTS as readonly string[]).includes(part)) {
        if (part === 'qweight') out.push(`${prefix}.weight`);
      } else out.push(n);
    }
    return out;
  }

  shapeOf(name: string): readonly number[] | undefined {
    const prefix = this.layerOf(name);
    if (prefix === undefined) return this.inner.shapeOf(name);
    const qs = this.inner.shapeOf(`${prefix}.qweight`)!;
    const per = 32 / this.config.bits;
    return this.config.method === 'gptq' ? [qs[1], qs[0] * per] : [qs[1] * per, qs[0]];
  }

  fileOf(name: string): string | undefined {
    const prefix = this.layerOf(name);
    return this.inner.fileOf(prefix === undefined ? name : `${prefix}.qweight`);
  }

  read(name: string): Tensor {
    const prefix = this.layerOf(name);
    if (prefix === undefined) return this.inner.read(name);
    const qw = this.quantized(prefix);
    return new Tensor([qw.rows, qw.columns], dequantize(qw));
  }

  /** The codes and grids of one layer (`model.layers.0.mlp.up_proj`), checked against each other. */
  quantized(prefix: string): QuantizedWeight {
    const have = this.cache.get(prefix);
    if (have) return have;
    const [N, K] = this.shapeOf(`${prefix}.weight`)!;
    const { bits, method } = this.config;
    const per = 32 / bits;
    const G = this.config.groupSize > 0 ? K / this.config.groupSize : 1;
    const fail = (part: string, msg: string): never => {
      throw new InspectorError(msg, { file: this.inner.fileOf(`${prefix}.${part}`) ?? this.inner.description, tensor: `${prefix}.${part}` });
    };
    if (!Number.isInteger(G)) fail('qweight', `group_size ${this.config.groupSize} does not divide the input width ${K}`);
    if (N % per) fail('qzeros', `the output width ${N} is not a multiple of ${per} (${bits}-bit packing)`);
    const expect = (part: string, shape: number[]) => {
      const got = this.inner.shapeOf(`${prefix}.${part}`);
      if (!got) fail(part, `missing tensor (expected shape ${shapeToString(shape)} for ${method.toUpperCase()} ${bits}-bit, group ${this.config.groupSize})`);
      if (got!.length !== shape.length || got!.some((d, i) => d !== shape[i])) {
        fail(part, `has shape ${shapeToString(got!)} but quantization_config (${bits}-bit, group_size ${this.config.groupSize}) and qweight imply ${shapeToString(shape)}`);
      }
    };
    expect('qzeros', [G, N / per]);
    expect('scales', [G, N]);
    const qweight = this.ints(`${prefix}.qweight`);
    const qzeros = this.ints(`${prefix}.qzeros`);
    const scales = this.inner.read(`${prefix}.scales`).data;
    let qw: QuantizedWeight;
    if (method === 'gptq') {
      let gIdx: Int32Array;
      if (this.inner.shapeOf(`${prefix}.g_idx`)) {
        expect('g_idx', [K]);
        gIdx = this.ints(`${prefix}.g_idx`);
        const bad = gIdx.findIndex((g) => g < 0 || g >= G);
        if (bad >= 0) fail('g_idx', `g_idx[${bad}] = ${gIdx[bad]} is outside the ${G} groups`);
      } else {
        gIdx = new Int32Array(K);
        for (let k = 0; k < K; k++) gIdx[k] = Math.floor(k / (K / G));
      }
      qw = unpackGptq({ qweight, qzeros, scales, gIdx }, N, K, G, bits);
    } else {
      qw = unpackAwq({ qweight, qzeros, scales }, N, K, G, bits);
    }
    this.cache.set(prefix, qw);
    return qw;
  }

  private layerOf(name: string): string | undefined {
    if (!name.endsWith('.weight')) return undefined;
    const prefix = name.slice(0, -'.weight'.length);
    return this.layers.has(prefix) ? prefix : undefined;
  }

  /** An I32 tensor's values (the float reader refuses integer dtypes). */
  private ints(name: string): Int32Array {
    const file = this.inner.files.find((f) => f.info(name)) as SafetensorsFile;
    const info = file.info(name)!;
    if (info.dtype !== 'I32') throw new InspectorError(`packed tensors are int32; this one is ${info.dtype}`, { file: file.path, tensor: name });
    const buf = Buffer.alloc(info.end - info.begin);
    const fd = fs.openSync(file.path, 'r');
    try {
      fs.readSync(fd, buf, 0, buf.length, info.begin);
    } finally {
      fs.closeSync(fd);
    }
    return new Int32Array(buf.buffer, buf.byteOffset, buf.length / 4).slice();
  }
}

/** Wrap a folder's weights when its config.json declares a quantization_config; otherwise pass them on. */
export function quantizedSource(configPath: string, configText: string, weights: FileWeights): WeightSource {
  if (configPath.endsWith('.transformer.json')) return weights;
  const cfg = readQuantizationConfig(configText, configPath);
  return cfg ? new QuantizedFileWeights(weights, cfg) : weights;
}
