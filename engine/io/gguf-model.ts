import type { JsonObject } from '../config/json';
import { countParams } from '../analysis/params';
import { describeModel } from '../model/describe';
import { MAX_RUN_PARAMETERS, refuseIfTooLarge, type LoadedModel } from '../model/load';
import { GgufFile } from './gguf';
import { GgufWeights, ggufLlamaConfig } from './gguf-llama';
import { ggufTokenizer } from './gguf-tokenizer';

/**
 * A llama-family `.gguf` as a runnable model: config from its metadata, resolved into the one model
 * description like any config.json; weights dequantized on read. The run-size limit is loadModel's.
 */
export function loadGgufModel(file: string, opts: { seed?: number; maxParameters?: number } = {}): LoadedModel {
  const gguf = GgufFile.open(file);
  const config = ggufLlamaConfig(gguf);
  const description = describeModel(config as JsonObject, { file, native: false });
  refuseIfTooLarge(countParams(description.arch).total, file, opts.maxParameters ?? MAX_RUN_PARAMETERS);
  const spec = opts.seed !== undefined ? { ...description.spec, seed: opts.seed } : description.spec;
  const model = description.build(spec, new GgufWeights(gguf, config));
  return { configPath: file, weightsPath: file, spec, model, tokenizer: ggufTokenizer(gguf).tokenizer };
}
