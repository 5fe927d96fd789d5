import * as fs from 'node:fs';
import * as path from 'node:path';
import { InspectorError } from '../errors';
import { parseNativeConfig } from '../config/native';
import { SafetensorsFile } from '../io/safetensors';
import type { ModelSpec } from './spec';
import { FileWeights, type WeightSource } from './weights';
import { StreamingWeights } from './streaming';
import { checkFitsInMemory, memoryNeed, WASM_LIMIT_BYTES } from './fits';
import { autoWeightBudget, defaultMemoryBudget, machineMemory, usableMemory } from './memory-budget';
import { estimateTrace } from '../worker/budget';
import { hfSpec } from './hf';
import { isObject, parseJsonText } from '../config/json';
import { analyzeConfig, parseConfigText } from '../analysis';
import { countParams } from '../analysis/params';
import { describeModel, type ModelDescription } from './describe';
import type { TransformerModel } from './transformer';
import { loadTokenizer, type TextTokenizer } from '../io/tokenizer';
import { exists, readTextGuarded, type FileKind } from '../io/guarded';
import { quantizedSource } from '../quant/hf-quantized';
import { loadGgufModel } from '../io/gguf-model';
import { reportingReads } from './load-progress';

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
    if (exists(p)) return p; // a non-regular file is named by the guarded reader, not skipped
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
  /** Set when the weights are streamed layer by layer (they exceed the memory budget). */
  streaming?: StreamingWeights;
  /** The one description the model was built from (its tree, hooks and counts derive from it). */
  description?: ModelDescription;
}

function readText(file: string, kind: FileKind): string {
  return readTextGuarded(file, kind);
}

/** The spec of a native config or a Hugging Face config.json (by its model_type). */
export function readConfigSpec(configPath: string): ModelSpec {
  const text = readText(configPath, 'config');
  return configPath.endsWith(NATIVE_SUFFIX) ? parseNativeConfig(text, configPath) : hfSpec(text, configPath);
}

/** A weights file, or the shards a `model.safetensors.index.json` names in its weight_map. */
export function openWeights(weightsPath: string): FileWeights {
  if (!weightsPath.endsWith('.index.json')) return new FileWeights([SafetensorsFile.open(weightsPath)]);
  const index = parseJsonText(readText(weightsPath, 'index'), weightsPath);
  const map = isObject(index) ? index.weight_map : undefined;
  if (!isObject(map)) throw new InspectorError('a shard index needs a "weight_map" object', { file: weightsPath, key: 'weight_map' });
  const place = { file: weightsPath, key: 'weight_map' };
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string') throw new InspectorError(`weight_map values must be shard file names; '${short(name)}' has ${JSON.stringify(shard)?.slice(0, 40)}`, place);
  }
  const byTensor = map as Record<string, string>;
  const shards = [...new Set(Object.values(byTensor))];
  const dir = path.dirname(weightsPath);
  const files = shards.map((s) => {
    if (s.includes('/') || s.includes('\\') || s.startsWith('.')) {
      throw new InspectorError(`shard name "${short(s)}" must be a file beside the index`, place);
    }
    return SafetensorsFile.open(path.join(dir, s));
  });
  // Every tensor in exactly one shard, and the one the index names.
  const holder = new Map<string, string>();
  for (const f of files) {
    for (const name of f.names()) {
      const other = holder.get(name);
      if (other !== undefined) {
        throw new InspectorError(`this tensor is in two shards (${path.basename(other)} and ${path.basename(f.path)})`, { file: weightsPath, tensor: name });
      }
      holder.set(name, f.path);
      if (byTensor[name] === undefined) {
        throw new InspectorError(`${path.basename(f.path)} holds this tensor but the index's weight_map does not name it`, { file: weightsPath, tensor: name });
      }
    }
  }
  for (const [name, shard] of Object.entries(byTensor)) {
    const at = holder.get(name);
    if (at !== path.join(dir, shard)) {
      const actually = at ? `; it is in ${path.basename(at)}` : '';
      throw new InspectorError(`the index puts this tensor in ${shard}, but it is not there${actually}`, { file: weightsPath, tensor: name });
    }
  }
  return new FileWeights(files);
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/**
 * Refuse, before anything is allocated, a model too big to run here (a 600-billion-parameter config must
 * get a message, not an out-of-memory crash): its weights as held in memory plus the trace budget must fit
 * the memory available (engine/model/fits.ts). The count comes from the config analysis: arithmetic only.
 */
export function checkRunnable(configPath: string, weights?: FileWeights, available?: number, activationBudget?: number): void {
  const analysis = analyzeConfig(parseJsonText(readText(configPath, 'config'), configPath), {
    file: configPath,
    native: configPath.endsWith(NATIVE_SUFFIX),
  });
  checkFitsInMemory(configPath, analysis.params.total, weights, available, activationBudget);
}

export interface LoadOptions {
  seed?: number;
  weights?: 'auto' | 'seeded';
  /** Bytes of memory available (default: what the OS reports available, within a cgroup limit); the size limit is memory. */
  availableBytes?: number;
  /**
   * Bytes the weights may take; larger fp32 weights are streamed layer by layer (see StreamingWeights).
   * Absent: held whole when they fit beside the activation budget in the memory available, else streamed
   * within what is left (engine/model/memory-budget.ts).
   */
  memoryBudget?: number;
  /** The activation budget the fits check adds to the weights (default: this process's, memory-budget.ts). */
  activationBudget?: number;
  /** Told `Reading the weights: layer i of N` as a file's weights are read (./load-progress.ts). */
  progress?: (message: string) => void;
}

/** Read and parse a config file once, and resolve it into its one description. */
export function describeConfigFile(configPath: string): ModelDescription {
  const native = configPath.endsWith(NATIVE_SUFFIX);
  return describeModel(parseConfigText(readText(configPath, 'config'), configPath), { file: configPath, native });
}

/**
 * Load a model: the config is read and parsed once into its description; the parameter count of that
 * description refuses a model too large to run before anything is allocated; the build takes the
 * weights by the names the description lists.
 */
export function loadModel(p: string, opts: LoadOptions = {}): LoadedModel {
  if (p.endsWith('.gguf')) return loadGgufModel(p, opts);
  const configPath = findConfig(p);
  const configText = readText(configPath, 'config');
  const description = describeModel(parseConfigText(configText, configPath), { file: configPath, native: configPath.endsWith(NATIVE_SUFFIX) });
  const spec = opts.seed !== undefined ? { ...description.spec, seed: opts.seed } : description.spec;
  const weightsPath = opts.weights === 'seeded' ? undefined : findWeights(configPath);
  const files = weightsPath ? openWeights(weightsPath) : undefined;
  // GPTQ/AWQ folders (a quantization_config in config.json) are dequantized as they are read; plain
  // weights larger than the budget are streamed layer by layer.
  const quantized = files && quantizedSource(configPath, configText, files);
  const activationBudget = opts.activationBudget ?? defaultMemoryBudget();
  const available = opts.availableBytes ?? usableMemory(machineMemory());
  // A budget past the model's whole trace at its longest input is never filled.
  const traceAtMost = estimateTrace(spec, spec.maxLen, spec.architecture === 'encoder-decoder' ? spec.maxLen : 0).fullBytes;
  const activations = Math.min(activationBudget, traceAtMost);
  const streaming = files && quantized === files ? chooseStreaming(files, opts.memoryBudget, activations, available) : undefined;
  // The size limit is memory: the weights as held plus the activation budget must fit. A streamed model
  // holds a layer at a time, so the limit is for models held whole.
  if (!streaming) checkFitsInMemory(configPath, countParams(description.arch).total, files, available, activationBudget, traceAtMost);
  const held = quantized && opts.progress ? reportingReads(quantized, spec.numLayers, opts.progress) : quantized;
  const source: WeightSource | undefined = streaming ?? held;
  const model = description.build(spec, source);
  return { configPath, weightsPath, spec, model, tokenizer: loadTokenizer(configPath), ...(streaming ? { streaming } : {}), description };
}

/**
 * A given weight budget: stream when the fp32 weights exceed it. None: hold the weights whole when they
 * (as held: 16-bit stays 16-bit) fit beside the activation budget, else stream within what is left.
 */
function chooseStreaming(files: FileWeights, budget: number | undefined, activationBudget: number, available: number): StreamingWeights | undefined {
  if (budget !== undefined) {
    const probe = new StreamingWeights(files, budget);
    return probe.weightBytes() > budget ? probe : undefined;
  }
  const need = memoryNeed(0n, files);
  const streamBudget = autoWeightBudget(need.weightBytes, activationBudget, available, need.kernelBytes <= WASM_LIMIT_BYTES);
  return streamBudget !== undefined ? new StreamingWeights(files, streamBudget) : undefined;
}
