import { ConfigReader, describeValue, isObject, type JsonObject, type JsonValue } from '../json';
import { InspectorError, isInspectorError } from '../../errors';
import type { QuantizationInfo } from '../../analysis/types';

/**
 * Typed reads of a Hugging Face config.json. Missing or null keys take the family's documented default
 * (the default of its `*Config` class in transformers); present keys must have the right type and range,
 * and a failure names the key. Keys the analysis does not use are never looked at.
 */
export class HfConfig {
  readonly r: ConfigReader;

  constructor(
    readonly obj: JsonObject,
    readonly file?: string,
  ) {
    this.r = new ConfigReader(obj, file);
  }

  has(key: string): boolean {
    return this.r.has(key);
  }

  fail(key: string, message: string): never {
    return this.r.fail(key, message);
  }

  /** A positive (or ≥ min) safe integer; `def` when absent or null. */
  int(key: string, def: number, min = 1): number {
    return this.r.int(key, { default: def, min });
  }

  /** A required-or-default integer whose default depends on others (null → undefined). */
  optInt(key: string, min = 1): number | null {
    return this.r.has(key) ? this.r.int(key, { min }) : null;
  }

  bool(key: string, def: boolean): boolean {
    return this.r.bool(key, def);
  }

  str(key: string, def: string): string {
    return this.r.string(key, def);
  }

  /** A list of non-negative integers (layer indices); absent or null → []. */
  intList(key: string): number[] {
    const v = this.obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(key, `'${key}' must be a list of integers, got ${describeValue(v)}`);
    return v.map((x, k) => {
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
        this.fail(`${key}[${k}]`, `'${key}' must hold non-negative integers, got ${describeValue(x)}`);
      }
      return x;
    });
  }

  /** A list of strings; absent or null → null. */
  strList(key: string): string[] | null {
    const v = this.obj[key];
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v)) this.fail(key, `'${key}' must be a list of strings, got ${describeValue(v)}`);
    return v.map((x, k) => {
      if (typeof x !== 'string')
        this.fail(`${key}[${k}]`, `'${key}' must hold strings, got ${describeValue(x)}`);
      return x;
    });
  }

  /** The first class in `architectures`, the class the checkpoint was saved from. */
  architecture(): string | null {
    const list = this.strList('architectures');
    return list && list.length > 0 ? list[0] : null;
  }

  /** Labels of a classification head: `num_labels`, else the size of `id2label`, else 2. */
  numLabels(): number {
    if (this.has('num_labels')) return this.int('num_labels', 2);
    const m = this.obj.id2label;
    if (m !== undefined && m !== null) {
      if (!isObject(m)) this.fail('id2label', `'id2label' must be an object, got ${describeValue(m)}`);
      const n = Object.keys(m).length;
      if (n > 0) return n;
    }
    return 2;
  }

  storedDtype(): string | null {
    for (const key of ['torch_dtype', 'dtype']) {
      const v = this.obj[key];
      if (typeof v === 'string') return v;
    }
    return null;
  }

  /** GPTQ/AWQ (bits, group size) or fp8 block quantisation from `quantization_config`. */
  quantization(): QuantizationInfo | null {
    const q = this.obj.quantization_config;
    if (q === undefined || q === null) return null;
    if (!isObject(q))
      this.fail('quantization_config', `'quantization_config' must be an object, got ${describeValue(q)}`);
    const sub = new ConfigReader(q, this.file);
    const method = typeof q.quant_method === 'string' ? q.quant_method.toLowerCase() : null;
    const key = (k: string): string => `quantization_config.${k}`;
    if (method === 'gptq' || method === 'awq') {
      const bitsKey = q.bits !== undefined ? 'bits' : q.w_bit !== undefined ? 'w_bit' : 'bits';
      const groupKey =
        q.group_size !== undefined
          ? 'group_size'
          : q.q_group_size !== undefined
            ? 'q_group_size'
            : 'group_size';
      const bits = readInt(sub, bitsKey, 4, 1, 16, key(bitsKey));
      const g = readInt(sub, groupKey, 128, -1, Number.MAX_SAFE_INTEGER, key(groupKey));
      if (g === 0) this.fail(key(groupKey), `'${groupKey}' must be positive, or -1 for one group per row`);
      return { method, bits, groupSize: g === -1 ? null : g };
    }
    if (method === 'fp8') {
      const b = q.weight_block_size;
      if (b === undefined || b === null) return { method, blockSize: null };
      const ok =
        Array.isArray(b) &&
        b.length === 2 &&
        b.every((x: JsonValue) => typeof x === 'number' && Number.isSafeInteger(x) && x > 0);
      if (!ok)
        this.fail(
          key('weight_block_size'),
          `'weight_block_size' must be two positive integers, got ${describeValue(b)}`,
        );
      return { method, blockSize: [b[0] as number, b[1] as number] };
    }
    return null;
  }
}

function readInt(r: ConfigReader, k: string, def: number, min: number, max: number, fullKey: string): number {
  try {
    return r.int(k, { default: def, min, max });
  } catch (e) {
    // Name the key with its parent object.
    if (isInspectorError(e)) throw new InspectorError(e.message, { file: r.file, key: fullKey });
    throw e;
  }
}

/** Heads divide the width unless head_dim is given; kv heads divide heads. Returns head_dim. */
export function headGeometry(
  c: HfConfig,
  o: {
    hidden: number;
    heads: number;
    kvHeads: number;
    headsKey: string;
    kvKey: string;
    headDimKey?: string;
    headDimDefault?: number;
  },
): number {
  if (o.kvHeads > o.heads)
    c.fail(o.kvKey, `'${o.kvKey}' (${o.kvHeads}) must be ≤ ${o.headsKey} (${o.heads})`);
  if (o.heads % o.kvHeads !== 0) {
    c.fail(o.kvKey, `'${o.kvKey}' (${o.kvHeads}) must divide '${o.headsKey}' (${o.heads})`);
  }
  if (o.headDimKey && (c.has(o.headDimKey) || o.headDimDefault !== undefined))
    return c.int(o.headDimKey, o.headDimDefault ?? 1);
  if (o.hidden % o.heads !== 0) {
    c.fail(o.headsKey, `the width (${o.hidden}) must be divisible by '${o.headsKey}' (${o.heads})`);
  }
  return o.hidden / o.heads;
}

/** What head the counted model class carries. */
export type HeadKind = 'lm' | 'seq_cls' | 'none';

/** What every decoder-only causal-LM family's resolved config has (Llama's and DeepSeek's readers). */
export interface CausalLmConfig<F extends string> {
  readonly family: F;
  readonly file?: string;
  /** Class-name prefix (`Llama`, `Gemma2`, `DeepseekV3`, …). */
  readonly prefix: string;
  readonly modelClass: string;
  readonly head: HeadKind;
  readonly numLabels: number;
  readonly vocab: number;
  readonly hidden: number;
  readonly ff: number;
  readonly layers: number;
  readonly heads: number;
  readonly maxPos: number;
  readonly tie: boolean;
}

export function decoderHead(
  arch: string | null,
  prefix: string,
): { cls: string; head: HeadKind; note?: string } {
  if (!arch) return { cls: `${prefix}ForCausalLM`, head: 'lm' };
  if (arch === `${prefix}ForCausalLM`) return { cls: arch, head: 'lm' };
  if (arch === `${prefix}ForSequenceClassification`) return { cls: arch, head: 'seq_cls' };
  if (arch === `${prefix}Model`) return { cls: arch, head: 'none' };
  return {
    cls: `${prefix}ForCausalLM`,
    head: 'lm',
    note: `architectures names ${arch}, which this analysis does not know: counted as ${prefix}ForCausalLM`,
  };
}
