import { analyzeConfig, analyzeFile, type Analysis, type ComponentNode } from '../analysis/index';
import { GgufFile } from '../io/gguf';
import { ggufLlamaConfig } from '../io/gguf-llama';
import type { JsonValue } from '../config/json';
import { findConfig, type LoadedModel } from '../model/load';
import type { ParamRow, ParamsInfo } from '../../protocol/webview';

/**
 * The parameter breakdown the panel shows, from the config analysis (exact, by arithmetic, for any
 * config the analysis reads, even one far too large to run), with the engine's own count of the
 * tensors it allocated beside the total when a model is loaded.
 */
export function paramsInfo(a: Analysis, allocated?: { count: number; weights: string }): ParamsInfo {
  const totals: ParamsInfo['totals'] = a.conventions.map((c) => ({ label: c.label, count: c.params.toString(), note: c.note }));
  if (allocated) {
    const same = BigInt(allocated.count) === a.params.total;
    totals.push({
      label: 'Allocated by the engine',
      count: String(allocated.count),
      note: same
        ? `the tensors the running model holds (${allocated.weights}): the same as the analysis`
        : `the tensors the running model holds (${allocated.weights}); differs from the analysis' total, see the notes`,
    });
  }
  if (a.notes.length > 0 && totals[0]) totals[0] = { ...totals[0], note: [totals[0].note, ...a.notes].join('; ') };
  return {
    rows: [row(a.components)],
    totals,
    memory: a.memory.map((m) => ({ dtype: m.stored ? `${m.label} (as stored)` : m.label, bytes: m.bytes.toString() })),
    ...(a.kv.bytesPerToken > 0n ? { kvCacheBytesPerToken: a.kv.bytesPerToken.toString() } : {}),
  };
}

function row(n: ComponentNode): ParamRow {
  const notes: string[] = [];
  if (n.count !== undefined) notes.push(`${n.count} × ${n.each ?? 0n}${n.shared ? ', one shared set of weights' : ''}`);
  if (n.active !== undefined) notes.push(`${n.active} active per token`);
  if (n.only === 'base') notes.push('base model only');
  if (n.only === 'extra') notes.push('extra module, not in the total');
  if (n.note) notes.push(n.note);
  const tied = n.tensors.filter((t) => t.tiedTo).map((t) => `${t.name} tied to ${t.tiedTo}`);
  notes.push(...tied);
  const children = n.children.map(row);
  return {
    name: n.path ? `${n.name} (${n.path})` : n.name,
    count: n.params.toString(),
    ...(notes.length ? { note: notes.join('; ') } : {}),
    ...(children.length ? { children } : {}),
  };
}

/**
 * The parameter breakdown of a config by analysis (exact; no model needed, so a config too large to
 * run has one too), with the loaded model's own count beside it when it is this config.
 */
export function configParams(configPath: string, loaded: LoadedModel | undefined): ParamsInfo {
  const file = findConfig(configPath);
  const same = loaded?.configPath === file ? loaded : undefined;
  // A GGUF's config is its llama.* metadata, mapped as loading maps it.
  const analysis = file.toLowerCase().endsWith('.gguf') ? analyzeConfig(ggufLlamaConfig(GgufFile.open(file)) as JsonValue, { file }) : analyzeFile(file);
  return paramsInfo(
    analysis,
    same && { count: same.model.parameterCount(), weights: same.weightsPath ?? same.model.weightsDescription },
  );
}
