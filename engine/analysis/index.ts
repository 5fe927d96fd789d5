import { InspectorError } from '../errors';
import { parseJsonText, type JsonValue } from '../config/json';
import { FILE_LIMITS, readTextGuarded } from '../io/guarded';
import { describeArchitecture, HF_FAMILIES } from './families';
import { componentTree, countParams, expandTensors, type ComponentNode, type ParamTotals } from './params';
import { weightMemory, type MemoryRow } from './memory';
import { kvCache, KV_DTYPES, type KvCache, type KvDtype } from './kvcache';
import { forwardFlops, type Flops } from './flops';
import type { ArchDesc, ArchitectureKind, BufferDef } from './types';

/**
 * Config analysis: exact parameter counts, weight memory, KV cache and FLOPs from a config alone, by
 * arithmetic (no tensor is allocated). `analyzeConfig` is the one entry point of the CLI and the extension.
 * docs/analysis.md states the conventions.
 */

export interface AnalyzeOptions {
  file?: string;
  /** Read the config as a native `*.transformer.json` (default: by file name, else by its keys). */
  native?: boolean;
  /** KV cache element type (default bf16). */
  dtype?: string;
  /** Context length for the KV cache and FLOPs (default: the model's maximum, else 2048). */
  context?: number | bigint;
  /** Sequences in the KV cache (default 1). */
  batch?: number | bigint;
}

/** One way a count is quoted, with what it includes. */
export interface Convention {
  readonly key: string;
  readonly label: string;
  readonly params: bigint;
  readonly note: string;
}

export interface Analysis {
  readonly family: string;
  readonly kind: ArchitectureKind;
  readonly modelClass: string;
  readonly baseClass: string;
  readonly file?: string;
  readonly hidden: number;
  readonly vocab: number;
  readonly maxContext: number | null;
  readonly params: ParamTotals;
  readonly conventions: readonly Convention[];
  readonly components: ComponentNode;
  readonly memory: readonly MemoryRow[];
  readonly kv: KvCache;
  readonly flops: Flops;
  readonly buffers: readonly BufferDef[];
  readonly notes: readonly string[];
  readonly isMoe: boolean;
  /** The architecture description (for per-tensor listings: `expandTensors`). */
  readonly arch: ArchDesc;
}

export const DEFAULT_CONTEXT = 2048;

export function analyzeConfig(json: JsonValue, opts: AnalyzeOptions = {}): Analysis {
  const dtype = checkDtype(opts.dtype ?? 'bf16');
  const context = opts.context === undefined ? undefined : positive(opts.context, 'context');
  const batch = opts.batch === undefined ? 1n : positive(opts.batch, 'batch');
  const arch = describeArchitecture(json, { file: opts.file, native: opts.native });
  return analyzeArch(arch, { dtype, context, batch, file: opts.file });
}

export function analyzeArch(
  arch: ArchDesc,
  o: { dtype: KvDtype; context?: bigint; batch: bigint; file?: string },
): Analysis {
  const params = countParams(arch);
  const context = o.context ?? BigInt(arch.maxContext ?? DEFAULT_CONTEXT);
  const isMoe = params.active !== params.total;
  return {
    family: arch.family,
    kind: arch.kind,
    modelClass: arch.modelClass,
    baseClass: arch.baseClass,
    ...(o.file ? { file: o.file } : {}),
    hidden: arch.hidden,
    vocab: arch.vocab,
    maxContext: arch.maxContext,
    params,
    conventions: conventions(arch, params, isMoe),
    components: componentTree(arch),
    memory: weightMemory(arch),
    kv: kvCache(arch, o.dtype, context, o.batch),
    flops: forwardFlops(arch, context),
    buffers: arch.buffers,
    notes: arch.notes,
    isMoe,
    arch,
  };
}

/** Read and analyse a config file (`*.transformer.json` or a Hugging Face config.json): a guarded read. */
export function analyzeFile(file: string, opts: Omit<AnalyzeOptions, 'file'> = {}): Analysis {
  return analyzeConfig(parseConfigText(readTextGuarded(file, 'config'), file), { ...opts, file });
}

export const MAX_CONFIG_BYTES = FILE_LIMITS.config;

/** Parse config text, refusing nesting deeper than a config ever has (the parser recurses). */
export function parseConfigText(text: string, file?: string): JsonValue {
  return parseJsonText(text, file);
}

function conventions(arch: ArchDesc, p: ParamTotals, isMoe: boolean): Convention[] {
  const out: Convention[] = [
    {
      key: 'total',
      label: arch.modelClass,
      params: p.total,
      note: 'the total: the model class the config names, task head included, tied weights once',
    },
  ];
  if (p.base !== p.total)
    out.push({
      key: 'base',
      label: arch.baseClass,
      params: p.base,
      note: 'the base model, without a task head',
    });
  out.push({
    key: 'non_embedding',
    label: 'without embeddings',
    params: p.nonEmbedding,
    note: 'excluding token, position and type embeddings and an untied output projection',
  });
  if (isMoe) {
    out.push({
      key: 'active',
      label: 'active per token',
      params: p.active,
      note: 'routed experts × top-k, shared experts, router, dense layers, attention, embeddings and head',
    });
    out.push({
      key: 'active_without_embedding_lookup',
      label: 'active per token, embedding tables excluded',
      params: p.activeNonEmbeddingLookup,
      note: 'as DeepSeek quotes its activated parameters',
    });
  }
  if (p.learned !== null)
    out.push({
      key: 'learned',
      label: 'learned parameters only',
      params: p.learned,
      note: 'without frozen parameters that are never trained (fixed sinusoid position tables)',
    });
  if (p.withExtra !== null)
    out.push({
      key: 'with_extra',
      label: arch.extraLabel ?? 'with extra modules',
      params: p.withExtra,
      note: 'everything the checkpoint stores',
    });
  if (p.torch !== null)
    out.push({
      key: 'torch',
      label: "transformers' num_parameters()",
      params: p.torch,
      note: 'differs by buffers that transformers holds as frozen parameters or the reverse (see buffers)',
    });
  return out;
}

function checkDtype(d: string): KvDtype {
  if (!(KV_DTYPES as readonly string[]).includes(d))
    throw new InspectorError(`dtype must be one of ${KV_DTYPES.join(', ')}, got "${d}"`);
  return d as KvDtype;
}

function positive(v: number | bigint, what: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v))
    throw new InspectorError(`${what} must be a whole number, got ${v}`);
  const b = BigInt(v);
  if (b < 1n) throw new InspectorError(`${what} must be at least 1, got ${b}`);
  return b;
}

export { expandTensors, HF_FAMILIES, KV_DTYPES };
export type { ComponentNode, ParamTotals, MemoryRow, KvCache, KvDtype, Flops, ArchDesc };
