import * as fs from 'node:fs';
import * as path from 'node:path';
import { InspectorError } from '../errors';
import { parseNativeConfig } from '../config/native';
import { SafetensorsFile } from '../io/safetensors';
import type { ModelSpec } from './spec';
import { FileWeights, type WeightSource } from './weights';
import { buildNativeModel } from './native';
import { buildHfModel, hfSpec } from './hf';
import { isObject, parseJsonText } from '../config/json';
import { analyzeConfig } from '../analysis';
import type { TransformerModel } from './transformer';
import { loadTokenizer, type TextTokenizer } from '../io/tokenizer';
import { quantizedSource } from '../quant/hf-quantized';
import { loadGgufModel } from '../io/gguf-model';

export const NATIVE_SUFFIX = '.transformer.json';

/** Resolve a config path: a file, or a folder holding exactly one *.transformer.json or a config.json. */
export function findConfig(p: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new InspectorError('no such file or folder', { file: p });
  }
  if (!st.isDirectory()) return p;
  const entries = fs.readdirSync(p);
  const native = entries.filter((e) => e.endsWith(NATIVE_SUFFIX));
  if (native.length === 1) return path.join(p, native[0]);
  if (native.length > 1) {
    throw new InspectorError(`the folder holds several configs (${native.join(', ')}): name one`, { file: p });
  }
  if (entries.includes('config.json')) return path.join(p, 'config.json');
  throw new InspectorError(`no *${NATIVE_SUFFIX} or config.json in this folder`, { file: p });
}

/** Weights beside a config: NAME.safetensors for NAME.transformer.json, else model.safetensors. */
export function findWeights(configPath: string): string | undefined {
  const dir = path.dirname(configPath);
  const base = path.basename(configPath);
  const candidates = base.endsWith(NATIVE_SUFFIX) ? [base.slice(0, -NATIVE_SUFFIX.length) + '.safetensors'] : [];
  candidates.push('model.safetensors', 'model.safetensors.index.json');
  for (const c of candidates) {
    const p = path.join(dir, c);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export interface LoadedModel {
  configPath: string;
  weightsPath?: string;
  spec: ModelSpec;
  model: TransformerModel;
  /** The tokenizer.json beside the config, if any. */
  tokenizer?: TextTokenizer;
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InspectorError(`cannot read ${what}: ${(e as Error).message}`, { file });
  }
}

/** The spec of a native config or a Hugging Face config.json (by its model_type). */
export function readConfigSpec(configPath: string): ModelSpec {
  const text = readText(configPath, 'config');
  return configPath.endsWith(NATIVE_SUFFIX) ? parseNativeConfig(text, configPath) : hfSpec(text, configPath);
}

/** A weights file, or the shards a `model.safetensors.index.json` names in its weight_map. */
export function openWeights(weightsPath: string): FileWeights {
  if (!weightsPath.endsWith('.index.json')) return new FileWeights([SafetensorsFile.open(weightsPath)]);
  const index = parseJsonText(readText(weightsPath, 'shard index'), weightsPath);
  const map = isObject(index) ? index.weight_map : undefined;
  if (!isObject(map)) throw new InspectorError('a shard index needs a "weight_map" object', { file: weightsPath, key: 'weight_map' });
  const shards = [...new Set(Object.values(map).map(String))];
  const dir = path.dirname(weightsPath);
  const files = shards.map((s) => {
    if (s.includes('/') || s.includes('\\') || s.startsWith('.')) {
      throw new InspectorError(`shard name "${s}" must be a file beside the index`, { file: weightsPath, key: 'weight_map' });
    }
    return SafetensorsFile.open(path.join(dir, s));
  });
  const weights = new FileWeights(files);
  for (const [name, shard] of Object.entries(map)) {
    if (weights.fileOf(name) !== path.join(dir, String(shard))) {
      throw new InspectorError(`the index puts this tensor in ${String(shard)}, but it is not there`, { file: weightsPath, tensor: name });
    }
  }
  return weights;
}

/** Models larger than this are analysed, not run: their fp32 weights would not fit the inspector's memory. */
export const MAX_RUN_PARAMETERS = 1_500_000_000;

/**
 * Refuse, before anything is allocated, a model too big to run here (a 600-billion-parameter config must
 * get a message, not an out-of-memory crash). The count comes from the config analysis: arithmetic only.
 */
export function checkRunnable(configPath: string, maxParameters = MAX_RUN_PARAMETERS): void {
  const analysis = analyzeConfig(parseJsonText(readText(configPath, 'config'), configPath), {
    file: configPath,
    native: configPath.endsWith(NATIVE_SUFFIX),
  });
  const total = analysis.params.total;
  if (total > BigInt(maxParameters)) {
    const gb = Number(total * 4n) / 1e9;
    throw new InspectorError(
      `this model has ${total.toLocaleString('en-US')} parameters (${gb.toFixed(1)} GB of fp32 weights); the inspector runs models up to ${maxParameters.toLocaleString('en-US')} parameters — its size analysis (params) still works`,
      { file: configPath },
    );
  }
}

export function loadModel(p: string, opts: { seed?: number; weights?: 'auto' | 'seeded'; maxParameters?: number } = {}): LoadedModel {
  if (p.endsWith('.gguf')) return loadGgufModel(p, opts);
  const configPath = findConfig(p);
  let spec = readConfigSpec(configPath);
  checkRunnable(configPath, opts.maxParameters);
  if (opts.seed !== undefined) spec = { ...spec, seed: opts.seed };
  const weightsPath = opts.weights === 'seeded' ? undefined : findWeights(configPath);
  // GPTQ/AWQ folders (a quantization_config in config.json) are dequantized as they are read.
  const source: WeightSource | undefined = weightsPath ? quantizedSource(configPath, readText(configPath, 'config'), openWeights(weightsPath)) : undefined;
  const model = configPath.endsWith(NATIVE_SUFFIX)
    ? buildNativeModel(spec, source)
    : buildHfModel(readText(configPath, 'config'), configPath, spec, source);
  return { configPath, weightsPath, spec, model, tokenizer: loadTokenizer(configPath) };
}
