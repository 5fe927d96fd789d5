import { InspectorError } from '../errors';
import { isObject, type JsonValue } from '../config/json';
import { nativeSpecFromJson } from '../config/native';
import { nativeArch } from '../analysis/families/native';
import { expandTensors } from '../analysis/params';
import type { ArchDesc } from '../analysis/types';
import type { ModelSpec } from './spec';
import type { TransformerModel } from './transformer';
import type { WeightSource } from './weights';
import { buildNativeModel } from './native';
import { describeHf } from './hf';
import { hookPlan, type HookPlan } from './hooks';

/**
 * The one resolved description of a model, made once per load from the parsed config (native or a
 * Hugging Face family): the module tree with every parameter's weight name and shape (`arch`, what the
 * analysis counts, the tree and the memory figures come from), the run spec with every variant
 * resolved, and the build, which allocates or loads the weights by the names the tree lists — checked:
 * a built model whose tensors differ from its description is an engine bug, not a user error.
 */
export interface ModelDescription {
  readonly family: string;
  readonly file?: string;
  readonly arch: ArchDesc;
  readonly spec: ModelSpec;
  /** Every hook the forward pass fires and its shape (`declaredHooks(plan, sizes)`), derived here once. */
  readonly hooks: HookPlan;
  /** Build with `spec` (the description's, possibly re-seeded), weights from `source` or seeded. */
  build(spec: ModelSpec, source?: WeightSource): TransformerModel;
}

export function describeModel(json: JsonValue, opts: { file?: string; native: boolean }): ModelDescription {
  const { file } = opts;
  if (opts.native) {
    if (!isObject(json)) throw new InspectorError('a *.transformer.json config must be a JSON object', { file });
    const spec = nativeSpecFromJson(json, file);
    const arch = nativeArch(spec);
    return { family: 'native', ...(file ? { file } : {}), arch, spec, hooks: hookPlan(spec), build: (s, src) => checked(arch, buildNativeModel(s, src)) };
  }
  if (!isObject(json)) throw new InspectorError('config.json must be a JSON object', { file });
  const hf = describeHf(json, file);
  return { family: hf.spec.family, ...(file ? { file } : {}), arch: hf.arch, spec: hf.spec, hooks: hookPlan(hf.spec, hf.hooks), build: (s, src) => checked(hf.arch, hf.build(s, src)) };
}

/** Checkpoint prefixes a family's file may carry or drop (GPT-2's official file is unprefixed, BERT's task files `bert.`). */
const PREFIXES = ['transformer.', 'bert.'];
const strip = (n: string): string => PREFIXES.reduce((s, p) => (s.startsWith(p) ? s.slice(p.length) : s), n);

/** The built model's parameters must be exactly the tensors its description lists, by name and shape. */
export function checked(arch: ArchDesc, model: TransformerModel): TransformerModel {
  const listed = new Map(expandTensors(arch).map((t) => [strip(t.name), t.shape]));
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, t] of model.parameters) {
    const n = strip(name);
    seen.add(n);
    const want = listed.get(n);
    if (!want) problems.push(`${name} is not in the description`);
    else if (want.length !== t.shape.length || want.some((d, i) => d !== BigInt(t.shape[i]))) problems.push(`${name} is [${t.shape.join(', ')}], described [${want.join(', ')}]`);
  }
  for (const n of listed.keys()) if (!seen.has(n)) problems.push(`${n} is described but was not built`);
  if (problems.length > 0) throw new Error(`the built ${model.spec.family} model differs from its description: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
  return model;
}
