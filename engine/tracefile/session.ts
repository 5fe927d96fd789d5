import { InspectorError } from '../errors';
import { analyzeConfig, type Analysis } from '../analysis/index';
import { describeModel } from '../model/describe';
import type { LoadedModel } from '../model/load';
import type { JsonValue } from '../config/json';
import type { ModelInfo } from '../../protocol/webview';
import { TraceFile } from './reader';
import { SHAPES_ONLY } from '../model/streaming';
import { declaredHooks } from '../model/hooks';
import { absentHooks } from './replay';


/** Models this small are built on seeded weights and judged by every hook they declare; larger ones on shapes only. */
export const HOOK_LIST_PARAMETERS = 50_000_000n;

/** A trace opened for the inspector: the model its config describes (for the tree), and what is absent. */
export interface OpenedTrace {
  trace: TraceFile;
  loaded: LoadedModel;
  /** Hooks the model computes that the trace did not record (see absentHooks). */
  absent: string[];
  analysis: Analysis;
  /** One line for the panel: where the trace came from and how much of the pass it holds. */
  description: string;
}

export function openTrace(p: string): OpenedTrace {
  const trace = TraceFile.open(p);
  const m = trace.manifest;
  const native = m.config_format === 'native';
  const analysis = analyzeConfig(m.config as JsonValue, { file: p, native });
  const described = describeModel(m.config as JsonValue, { file: p, native });
  const spec = described.spec;
  // A small model is built on seeded weights, a larger one on shapes only (nothing allocated, whatever its
  // size); the trace is never recomputed. A small model's absent hooks are every hook its description
  // declares that the trace lacks; a larger one's, the layers missing a hook kind the trace recorded.
  const small = analysis.params.total <= HOOK_LIST_PARAMETERS;
  const source = small ? undefined : SHAPES_ONLY;
  const model = described.build(spec, source);
  const absent = small
    ? describedAbsent(declaredHooks(described.hooks, { batch: 1, pos: 1, decoderPos: 1 }).map((h) => h.name), p, trace)
    : absentHooks(trace, spec.numLayers, spec.numDecoderLayers);
  const writer = m.writer.library ? `${m.writer.tool} (${m.writer.library})` : m.writer.tool;
  const description = `trace recorded by ${writer}: ${trace.hooks.length} hooks (${m.dtype})${absent.length ? `, ${absent.length} not recorded` : ''}`;
  return { trace, loaded: { configPath: p, spec, model, description: described }, absent, analysis, description };
}

/**
 * The hooks the model computes that the trace lacks, from its description's hook plan (the names do not
 * depend on the input's length; nothing is run, whatever the model's size); a recorded hook the model
 * does not compute is a lying trace.
 */
function describedAbsent(declared: readonly string[], file: string, trace: TraceFile): string[] {
  const names = new Set(declared);
  for (const h of trace.hooks) {
    if (!names.has(h)) throw new InspectorError("the trace records a hook that the model of its config does not compute (a config that does not match the run?)", { file, tensor: h });
  }
  return declared.filter((n) => !trace.has(n));
}

/** The error for a hook the model has but the trace did not record: absent, not computed. */
export function absentHookError(name: string, file: string): InspectorError {
  return new InspectorError(`'${name}' was not recorded in this trace: it is absent (a trace is never recomputed)`, { file, tensor: name });
}

/** What the panel shows about a trace's model: the recorded input and tokens, where the trace came from. */
export function traceModelInfo(opened: OpenedTrace): ModelInfo {
  const { spec, model, configPath } = opened.loaded;
  const input = opened.trace.manifest.input;
  const ids = input.ids[0];
  const decoderIds = input.decoder_ids?.[0];
  return {
    configPath,
    family: spec.family,
    architecture: spec.architecture,
    weights: opened.description,
    seeded: false,
    tokens: input.tokens?.[0] ?? ids.map(String),
    ...(decoderIds ? { decoderTokens: input.decoder_tokens?.[0] ?? decoderIds.map(String), decoderIds: [...decoderIds] } : {}),
    ids: [...ids],
    parameterCount: model.parameterCount(),
    unusedWeights: [],
  };
}
