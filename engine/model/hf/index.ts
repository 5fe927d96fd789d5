import { InspectorError } from '../../errors';
import { isObject, parseJsonText, type JsonObject } from '../../config/json';
import type { ModelSpec } from '../spec';
import type { TransformerModel } from '../transformer';
import type { WeightSource } from '../weights';
import { gpt2Spec, buildGpt2 } from './gpt2';
import { llamaSpec, buildLlama, type LlamaFamily } from './llama';
import { bertSpec, buildBert } from './bert';
import { marianSpec, buildMarian } from './marian';
import { deepseekV2Spec, buildDeepseekV2 } from './deepseek';

/** One Hugging Face family the engine runs: its config → spec, and spec + weights → model (explicit name map). */
interface Family {
  spec(obj: JsonObject, file?: string): ModelSpec;
  build(spec: ModelSpec, obj: JsonObject, source?: WeightSource): TransformerModel;
}

const llamaLike = (f: LlamaFamily): Family => ({
  spec: (o, file) => llamaSpec(f, o, file),
  build: (s, o, src) => buildLlama(f, s, o, src),
});

export const HF_FAMILIES = {
  gpt2: { spec: gpt2Spec, build: buildGpt2 },
  llama: llamaLike('llama'),
  mistral: llamaLike('mistral'),
  qwen2: llamaLike('qwen2'),
  gemma: llamaLike('gemma'),
  bert: { spec: bertSpec, build: buildBert },
  marian: { spec: marianSpec, build: buildMarian },
  deepseek_v2: { spec: deepseekV2Spec, build: buildDeepseekV2 },
} satisfies Record<string, Family>;

export type HfFamily = keyof typeof HF_FAMILIES;

export function parseHfConfigText(text: string, file?: string): { obj: JsonObject; family: HfFamily } {
  const json = parseJsonText(text, file);
  if (!isObject(json)) throw new InspectorError('config.json must be a JSON object', { file });
  const type = json.model_type;
  if (typeof type !== 'string')
    throw new InspectorError(
      `config.json has no "model_type" (supported: ${Object.keys(HF_FAMILIES).join(', ')})`,
      { file, key: 'model_type' },
    );
  if (!(type in HF_FAMILIES)) {
    throw new InspectorError(
      `model_type "${type}" is not one the engine runs (supported: ${Object.keys(HF_FAMILIES).join(', ')}); its size analysis may still be available`,
      { file, key: 'model_type' },
    );
  }
  return { obj: json, family: type as HfFamily };
}

export function hfSpec(text: string, file?: string): ModelSpec {
  const { obj, family } = parseHfConfigText(text, file);
  return HF_FAMILIES[family].spec(obj, file);
}

export function buildHfModel(
  text: string,
  file: string | undefined,
  spec: ModelSpec,
  source?: WeightSource,
): TransformerModel {
  const { obj, family } = parseHfConfigText(text, file);
  return HF_FAMILIES[family].build(spec, obj, source);
}
