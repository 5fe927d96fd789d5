import * as fs from 'node:fs';
import * as path from 'node:path';
import { InspectorError } from '../errors';
import { parseNativeConfig } from '../config/native';
import { SafetensorsFile } from '../io/safetensors';
import type { ModelSpec } from './spec';
import { FileWeights, type WeightSource } from './weights';
import { buildNativeModel } from './native';
import { checkFitsInMemory } from './fits';
import { buildHfModel, hfSpec } from './hf';
import { isObject, parseJsonText } from '../config/json';
import { analyzeConfig } from '../analysis';
import type { TransformerModel } from './transformer';
import { loadTokenizer, type TextTokenizer } from '../io/tokenizer';

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

/**
 * Refuse, before anything is allocated, a model too big to run here (a 600-billion-parameter config must
 * get a message, not an out-of-memory crash): its weights as held in memory plus the trace budget must fit
 * the memory available (engine/model/fits.ts). The count comes from the config analysis: arithmetic only.
 */
export function checkRunnable(configPath: string, weights?: FileWeights, available?: number): void {
  const analysis = analyzeConfig(parseJsonText(readText(configPath, 'config'), configPath), {
    file: configPath,
    native: configPath.endsWith(NATIVE_SUFFIX),
  });
  checkFitsInMemory(configPath, analysis.params.total, weights, available);
}

export function loadModel(p: string, opts: { seed?: number; weights?: 'auto' | 'seeded'; availableBytes?: number } = {}): LoadedModel {
  const configPath = findConfig(p);
  let spec = readConfigSpec(configPath);
  if (opts.seed !== undefined) spec = { ...spec, seed: opts.seed };
  const weightsPath = opts.weights === 'seeded' ? undefined : findWeights(configPath);
  const files = weightsPath ? openWeights(weightsPath) : undefined;
  checkRunnable(configPath, files, opts.availableBytes);
  const source: WeightSource | undefined = files;
  const model = configPath.endsWith(NATIVE_SUFFIX)
    ? buildNativeModel(spec, source)
    : buildHfModel(readText(configPath, 'config'), configPath, spec, source);
  return { configPath, weightsPath, spec, model, tokenizer: loadTokenizer(configPath) };
}
