import { InspectorError } from '../../errors';
import { describeValue, isObject, type JsonValue } from '../../config/json';
import { NATIVE_KEYS, nativeSpecFromJson } from '../../config/native';
import type { ArchDesc } from '../types';
import { HfConfig } from '../../config/hf/reader';
import { LLAMA_FAMILIES, llamaFamily } from './llama';
import { DEEPSEEK_FAMILIES, deepseekFamily } from './deepseek';
import { bertFamily, gpt2Family } from './gpt2_bert';
import { bartFamily, t5Family } from './seq2seq';
import { nativeArch } from './native';

/** Every family the analysis reads: native `*.transformer.json` plus these Hugging Face model_types. */
export const HF_FAMILIES: readonly string[] = [
  'gpt2',
  'bert',
  't5',
  'bart',
  'marian',
  ...LLAMA_FAMILIES,
  ...DEEPSEEK_FAMILIES,
];

export interface DescribeOptions {
  file?: string;
  /** Force the native reading (a `*.transformer.json`); otherwise decided by the file name or the keys. */
  native?: boolean;
}

/** Normalise any supported config into the architecture description the analysis runs on. */
export function describeArchitecture(json: JsonValue, opts: DescribeOptions = {}): ArchDesc {
  const file = opts.file;
  if (!isObject(json))
    throw new InspectorError(`a config must be a JSON object, got ${describeValue(json)}`, { file });
  const native =
    opts.native ??
    (file?.endsWith('.transformer.json') || (json.model_type === undefined && looksNative(json)));
  if (native) return nativeArch(nativeSpecFromJson(json, file));
  const type = json.model_type;
  if (type === undefined || type === null) {
    throw new InspectorError(`'model_type' is missing: cannot tell which family this config belongs to`, {
      file,
      key: 'model_type',
    });
  }
  if (typeof type !== 'string')
    throw new InspectorError(`'model_type' must be a string, got ${describeValue(type)}`, {
      file,
      key: 'model_type',
    });
  const c = new HfConfig(json, file);
  switch (type) {
    case 'gpt2':
      return gpt2Family(c);
    case 'bert':
      return bertFamily(c);
    case 't5':
      return t5Family(c);
    case 'bart':
    case 'marian':
      return bartFamily(c, type);
    case 'deepseek_v2':
    case 'deepseek_v3':
      return deepseekFamily(c, type);
    default:
      if (LLAMA_FAMILIES.includes(type)) return llamaFamily(c, type);
      throw new InspectorError(
        `model_type "${type.length > 40 ? type.slice(0, 40) + '…' : type}" is not one the analysis knows (it knows ${HF_FAMILIES.join(', ')})`,
        {
          file,
          key: 'model_type',
        },
      );
  }
}

function looksNative(json: { [key: string]: JsonValue }): boolean {
  const keys = Object.keys(json);
  return (
    keys.includes('d_model') &&
    keys.includes('num_heads') &&
    keys.every((k) => (NATIVE_KEYS as readonly string[]).includes(k))
  );
}
