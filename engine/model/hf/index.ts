import { InspectorError } from '../../errors';
import { isObject, parseJsonText, type JsonObject } from '../../config/json';
import { HfConfig } from '../../config/hf/reader';
import { resolveLlama } from '../../config/hf/llama';
import { resolveGpt2 } from '../../config/hf/gpt2';
import { resolveBert } from '../../config/hf/bert';
import { resolveBart } from '../../config/hf/bart';
import { resolveDeepseek } from '../../config/hf/deepseek';
import { llamaArch } from '../../analysis/families/llama';
import { gpt2Arch, bertArch } from '../../analysis/families/gpt2_bert';
import { bartArch } from '../../analysis/families/seq2seq';
import { deepseekArch } from '../../analysis/families/deepseek';
import type { ArchDesc } from '../../analysis/types';
import type { ModelSpec } from '../spec';
import type { TransformerModel } from '../transformer';
import type { WeightSource } from '../weights';
import type { HookVariants } from '../hooks';
import { gpt2RunSpec, buildGpt2Model } from './gpt2';
import { llamaRunSpec, buildLlamaModel, type LlamaFamily } from './llama';
import { bertRunSpec, buildBertModel } from './bert';
import { marianRunSpec, buildMarian } from './marian';
import { deepseekRunSpec, buildDeepseekModel } from './deepseek';

/**
 * One Hugging Face family the engine runs. Its config is resolved once (engine/config/hf/<family>.ts,
 * where its defaults live); from that one description come the module tree the analysis counts
 * (`arch`: every weight name and shape), the run spec and the build (weights by those names).
 */
export interface RunnableHf {
  readonly arch: ArchDesc;
  readonly spec: ModelSpec;
  /** What the family's hooks are beyond what the run spec says (engine/model/hooks.ts). */
  readonly hooks?: HookVariants;
  build(spec: ModelSpec, source?: WeightSource): TransformerModel;
}

type Family = (c: HfConfig) => RunnableHf;

const llamaLike =
  (f: LlamaFamily): Family =>
  (c) => {
    const cfg = resolveLlama(c, f);
    return { arch: llamaArch(cfg), spec: llamaRunSpec(cfg), build: (s, src) => buildLlamaModel(cfg, s, src) };
  };

export const HF_FAMILIES = {
  gpt2: (c) => {
    const g = resolveGpt2(c);
    return { arch: gpt2Arch(g), spec: gpt2RunSpec(g), build: (s, src) => buildGpt2Model(g, s, src) };
  },
  llama: llamaLike('llama'),
  mistral: llamaLike('mistral'),
  qwen2: llamaLike('qwen2'),
  gemma: llamaLike('gemma'),
  bert: (c) => {
    const b = resolveBert(c);
    return { arch: bertArch(b), spec: bertRunSpec(b), hooks: { tokenTypes: b.typeVocab > 0, embedNorm: true }, build: (s, src) => buildBertModel(b, s, src) };
  },
  marian: (c) => {
    const m = resolveBart(c, 'marian');
    return { arch: bartArch(m), spec: marianRunSpec(m), build: (s, src) => buildMarian(s, src) };
  },
  deepseek_v2: (c) => {
    const d = resolveDeepseek(c, 'deepseek_v2');
    const spec = deepseekRunSpec(d);
    const mla = { kind: 'mla', heads: d.heads, qkHeadDim: d.mla.nope + d.mla.rope, vHeadDim: d.mla.v, latent: d.mla.kvLora, ropeDim: d.mla.rope, qLatent: d.mla.qLora } as const;
    const moe = { kind: 'moe', experts: d.moe.routed, topK: d.moe.topK, method: d.moe.topkMethod === 'group_limited_greedy' ? 'group_limited_greedy' : 'greedy', shared: d.moe.shared > 0 } as const;
    return { arch: deepseekArch(d), spec, hooks: { attention: () => mla, ffn: (i) => (d.isMoeLayer(i) ? moe : { kind: 'gated', dMlp: spec.dFF }) }, build: (s, src) => buildDeepseekModel(d, s, src) };
  },
} satisfies Record<string, Family>;

export type HfFamily = keyof typeof HF_FAMILIES;

/** The family of a parsed config.json; an unknown or analysis-only model_type is refused, naming the ones the engine runs. */
export function hfFamilyOf(json: JsonObject, file?: string): HfFamily {
  const type = json.model_type;
  if (typeof type !== 'string')
    throw new InspectorError(`config.json has no "model_type" (supported: ${Object.keys(HF_FAMILIES).join(', ')})`, { file, key: 'model_type' });
  if (!(type in HF_FAMILIES)) {
    throw new InspectorError(
      `model_type "${type}" is not one the engine runs (supported: ${Object.keys(HF_FAMILIES).join(', ')}); its size analysis may still be available`,
      { file, key: 'model_type' },
    );
  }
  return type as HfFamily;
}

/** Resolve a parsed config.json once: its module tree, run spec and build. */
export function describeHf(json: JsonObject, file?: string): RunnableHf {
  return HF_FAMILIES[hfFamilyOf(json, file)](new HfConfig(json, file));
}

export function parseHfConfigText(text: string, file?: string): { obj: JsonObject; family: HfFamily } {
  const json = parseJsonText(text, file);
  if (!isObject(json)) throw new InspectorError('config.json must be a JSON object', { file });
  return { obj: json, family: hfFamilyOf(json, file) };
}

/** Compatible entry: the run spec of a config.json's text. */
export function hfSpec(text: string, file?: string): ModelSpec {
  const { obj } = parseHfConfigText(text, file);
  return describeHf(obj, file).spec;
}

/** Compatible entry: build from a config.json's text with a spec made by `hfSpec` (possibly re-seeded). */
export function buildHfModel(text: string, file: string | undefined, spec: ModelSpec, source?: WeightSource): TransformerModel {
  const { obj } = parseHfConfigText(text, file);
  return describeHf(obj, file).build(spec, source);
}
