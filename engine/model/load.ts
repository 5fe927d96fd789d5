import * as fs from 'node:fs';
import * as path from 'node:path';
import { InspectorError } from '../errors';
import { parseNativeConfig } from '../config/native';
import { SafetensorsFile } from '../io/safetensors';
import type { ModelSpec } from './spec';
import { FileWeights, type WeightSource } from './weights';
import { buildNativeModel } from './native';
import type { TransformerModel } from './transformer';

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
  candidates.push('model.safetensors');
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
}

export function readConfigSpec(configPath: string): ModelSpec {
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (e) {
    throw new InspectorError(`cannot read config: ${(e as Error).message}`, { file: configPath });
  }
  if (configPath.endsWith(NATIVE_SUFFIX)) return parseNativeConfig(text, configPath);
  throw new InspectorError(
    `running Hugging Face config.json models is not supported yet; name a *${NATIVE_SUFFIX} file`,
    { file: configPath },
  );
}

export function loadModel(p: string, opts: { seed?: number; weights?: 'auto' | 'seeded' } = {}): LoadedModel {
  const configPath = findConfig(p);
  let spec = readConfigSpec(configPath);
  if (opts.seed !== undefined) spec = { ...spec, seed: opts.seed };
  const weightsPath = opts.weights === 'seeded' ? undefined : findWeights(configPath);
  let source: WeightSource | undefined;
  if (weightsPath) source = new FileWeights([SafetensorsFile.open(weightsPath)]);
  const model = buildNativeModel(spec, source);
  return { configPath, weightsPath, spec, model };
}
