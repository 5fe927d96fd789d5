import type { JsonObject } from '../config/json';
import { countParams } from '../analysis/params';
import { describeModel } from '../model/describe';
import type { LoadedModel } from '../model/load';
import { checkFitsInMemory } from '../model/fits';
import { GgufFile } from './gguf';
import { GgufWeights, ggufLlamaConfig } from './gguf-llama';
import { ggufTokenizer } from './gguf-tokenizer';

/**
 * A llama-family `.gguf` as a runnable model: config from its metadata, resolved into the one model
 * description like any config.json; weights dequantized on read. The run-size limit is loadModel's.
 */
export function loadGgufModel(file: string, opts: { seed?: number; availableBytes?: number; activationBudget?: number } = {}): LoadedModel {
  const gguf = GgufFile.open(file);
  const config = ggufLlamaConfig(gguf);
  const description = describeModel(config as JsonObject, { file, native: false });
  // Its tensors are dequantized to fp32: the size limit is that, plus the trace budget, in memory.
  checkFitsInMemory(file, countParams(description.arch).total, undefined, opts.availableBytes, opts.activationBudget);
  const spec = opts.seed !== undefined ? { ...description.spec, seed: opts.seed } : description.spec;
  const model = description.build(spec, new GgufWeights(gguf, config));
  return { configPath: file, weightsPath: file, spec, model, tokenizer: ggufTokenizer(gguf).tokenizer };
}
