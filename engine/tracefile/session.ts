import { InspectorError } from '../errors';
import { analyzeConfig, type Analysis } from '../analysis/index';
import { parseNativeConfig } from '../config/native';
import { buildHfModel, hfSpec } from '../model/hf';
import { buildNativeModel } from '../model/native';
import type { LoadedModel } from '../model/load';
import type { JsonValue } from '../config/json';
import { TraceFile } from './reader';
import { absentHooks } from './replay';
import { runTrace } from '../trace/step';
import type { TransformerModel } from '../model/transformer';

/** Configs whose module tree is built for a trace (seeded, never run): the tree and the views need it. */
export const MAX_TRACE_TREE_PARAMETERS = 400_000_000n;

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
  const text = JSON.stringify(m.config);
  const analysis = analyzeConfig(m.config as JsonValue, { file: p, native });
  if (analysis.params.total > MAX_TRACE_TREE_PARAMETERS) {
    throw new InspectorError(
      `the trace's model has ${analysis.params.total.toLocaleString('en-US')} parameters; the inspector opens traces of models up to ${MAX_TRACE_TREE_PARAMETERS.toLocaleString('en-US')} parameters for now (its module tree is built in memory)`,
      { file: p },
    );
  }
  const spec = native ? parseNativeConfig(text, p) : hfSpec(text, p);
  // Seeded weights only give the tree its shapes; nothing is computed from them.
  const model = native ? buildNativeModel(spec) : buildHfModel(text, p, spec, undefined);
  const absent = modelHooks(model, spec.architecture === 'encoder-decoder', analysis.params.total, p, trace) ?? absentHooks(trace, spec.numLayers, spec.numDecoderLayers);
  const writer = m.writer.library ? `${m.writer.tool} (${m.writer.library})` : m.writer.tool;
  const description = `trace recorded by ${writer}: ${trace.hooks.length} hooks (${m.dtype})${absent.length ? `, ${absent.length} not recorded` : ''}`;
  return { trace, loaded: { configPath: p, spec, model }, absent, analysis, description };
}

/** Models this small list their hooks by a one-token forward pass on their seeded weights (milliseconds). */
export const HOOK_LIST_PARAMETERS = 50_000_000n;

/**
 * The hooks the model computes that the trace lacks, from a one-token run of the seeded model (hook names do
 * not depend on the length of the input); a recorded hook the model does not compute is a lying trace.
 * Undefined for models too large to run for this: then absentHooks judges from the trace alone.
 */
function modelHooks(model: TransformerModel, seq2seq: boolean, parameters: bigint, file: string, trace: TraceFile): string[] | undefined {
  if (parameters > HOOK_LIST_PARAMETERS) return undefined;
  const { steps } = runTrace(model.forward({ ids: [[0]], ...(seq2seq ? { decoderIds: [[0]] } : {}) }));
  const names = new Set(steps.map((s) => s.name));
  for (const h of trace.hooks) {
    if (!names.has(h)) throw new InspectorError("the trace records a hook that the model of its config does not compute (a config that does not match the run?)", { file, tensor: h });
  }
  return steps.map((s) => s.name).filter((n) => !trace.has(n));
}

/** The error for a hook the model has but the trace did not record: absent, not computed. */
export function absentHookError(name: string, file: string): InspectorError {
  return new InspectorError(`'${name}' was not recorded in this trace: it is absent (a trace is never recomputed)`, { file, tensor: name });
}
