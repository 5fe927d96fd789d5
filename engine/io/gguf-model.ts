import { InspectorError } from '../errors';
import { analyzeConfig } from '../analysis';
import { parseJsonText } from '../config/json';
import { buildHfModel, hfSpec } from '../model/hf';
import type { LoadedModel } from '../model/load';
import { GgufFile } from './gguf';
import { GgufWeights, ggufLlamaConfig } from './gguf-llama';
import { ggufTokenizer } from './gguf-tokenizer';

/** Models larger than this are refused before their tensors are dequantized (as loadModel refuses them). */
const MAX_RUN_PARAMETERS = 1_500_000_000;

/** A llama-family `.gguf` as a runnable model: config from its metadata, weights dequantized on read. */
export function loadGgufModel(file: string, opts: { seed?: number; maxParameters?: number } = {}): LoadedModel {
  const gguf = GgufFile.open(file);
  const config = ggufLlamaConfig(gguf);
  const text = JSON.stringify(config);
  const total = analyzeConfig(parseJsonText(text, file), { file, native: false }).params.total;
  const max = opts.maxParameters ?? MAX_RUN_PARAMETERS;
  if (total > BigInt(max)) {
    throw new InspectorError(`this model has ${total.toLocaleString('en-US')} parameters; the inspector runs models up to ${max.toLocaleString('en-US')}`, { file });
  }
  let spec = hfSpec(text, file);
  if (opts.seed !== undefined) spec = { ...spec, seed: opts.seed };
  const model = buildHfModel(text, file, spec, new GgufWeights(gguf, config));
  return { configPath: file, weightsPath: file, spec, model, tokenizer: ggufTokenizer(gguf).tokenizer };
}
