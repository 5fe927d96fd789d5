import { InspectorError, type Place } from '../errors';

/**
 * The manifest of a trace file: one JSON string in the safetensors `__metadata__` under MANIFEST_KEY.
 * It says what model produced the tensors (its config, so the parameter analysis and the tree work),
 * on which input, in which dtype, which hooks the file holds and in which order, and who wrote it.
 * docs/trace-format.md describes it; schemas/trace-manifest.schema.json is its JSON Schema.
 */
export const MANIFEST_KEY = 'inspector_trace';
export const TRACE_FORMAT = 'transformer-inspector-trace';
export const TRACE_VERSION = 1;
export const TRACE_SUFFIX = '.trace.safetensors';
export const TRACE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type TraceDtype = (typeof TRACE_DTYPES)[number];

export interface TraceInput {
  /** [batch][position] token ids of the (encoder) input. */
  ids: number[][];
  /** Token strings, [batch][position], when a tokenizer was at hand. */
  tokens?: string[][];
  decoder_ids?: number[][];
  decoder_tokens?: string[][];
}

export interface TraceManifest {
  format: typeof TRACE_FORMAT;
  version: number;
  /** The program that recorded the tensors, e.g. `tools/capture/capture_hf.py`, and the library beneath it. */
  writer: { tool: string; library?: string };
  /** `hf`: a Hugging Face config.json object; `native`: a *.transformer.json object. */
  config_format: 'hf' | 'native';
  config: Record<string, unknown>;
  input: TraceInput;
  /** The dtype every tensor of the trace is stored in (read back as fp32). */
  dtype: TraceDtype;
  /** The hook names this file holds, in forward order. */
  hooks: string[];
  /** Positions kept along the `pos` / `query_pos` axes (all when absent); `key_pos` is always whole. */
  positions?: number[];
  /** For a trace folder: this shard's place (shards are walked in index order). */
  shard?: { index: number; count: number };
}

/** Parse and check a manifest string; every mistake names the file and the manifest key. */
export function parseManifest(text: string | undefined, file: string): TraceManifest {
  const at = (key: string): Place => ({ file, key: `${MANIFEST_KEY}.${key}` });
  if (text === undefined) {
    throw new InspectorError(`not a trace: the safetensors __metadata__ has no "${MANIFEST_KEY}" manifest (a plain weights or dump file?)`, { file });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InspectorError(`the trace manifest is not valid JSON (${(e as Error).message})`, { file, key: MANIFEST_KEY });
  }
  if (!isObject(raw)) throw new InspectorError('the trace manifest must be a JSON object', { file, key: MANIFEST_KEY });
  if (raw.format !== TRACE_FORMAT) throw new InspectorError(`format must be "${TRACE_FORMAT}", not ${JSON.stringify(raw.format)}`, at('format'));
  if (raw.version !== TRACE_VERSION) {
    throw new InspectorError(`this inspector reads trace format version ${TRACE_VERSION}; the file has ${JSON.stringify(raw.version)}`, at('version'));
  }
  const writer = raw.writer;
  if (!isObject(writer) || typeof writer.tool !== 'string' || (writer.library !== undefined && typeof writer.library !== 'string')) {
    throw new InspectorError('writer must be {"tool": string, "library"?: string}', at('writer'));
  }
  if (raw.config_format !== 'hf' && raw.config_format !== 'native') throw new InspectorError('config_format must be "hf" or "native"', at('config_format'));
  if (!isObject(raw.config)) throw new InspectorError("config must be the model's config object", at('config'));
  if (typeof raw.dtype !== 'string' || !(TRACE_DTYPES as readonly string[]).includes(raw.dtype)) {
    throw new InspectorError(`dtype must be one of ${TRACE_DTYPES.join(', ')}, not ${JSON.stringify(raw.dtype)}`, at('dtype'));
  }
  if (!Array.isArray(raw.hooks) || !raw.hooks.every((h) => typeof h === 'string')) throw new InspectorError('hooks must be a list of hook names', at('hooks'));
  if (new Set(raw.hooks).size !== raw.hooks.length) throw new InspectorError('hooks names a hook twice', at('hooks'));
  const input = parseInput(raw.input, at);
  let positions: number[] | undefined;
  if (raw.positions !== undefined) {
    const T = input.ids[0].length;
    const p = raw.positions;
    if (!Array.isArray(p) || p.length === 0 || !p.every((x, i) => Number.isInteger(x) && x >= 0 && x < T && (i === 0 || x > (p[i - 1] as number)))) {
      throw new InspectorError(`positions must be increasing positions of the input (0 … ${T - 1})`, at('positions'));
    }
    positions = p as number[];
  }
  let shard: TraceManifest['shard'];
  if (raw.shard !== undefined) {
    const s = raw.shard;
    if (!isObject(s) || !Number.isInteger(s.count) || !Number.isInteger(s.index) || (s.count as number) < 1 || (s.index as number) < 0 || (s.index as number) >= (s.count as number)) {
      throw new InspectorError('shard must be {"index": i, "count": n} with 0 ≤ i < n', at('shard'));
    }
    shard = { index: s.index as number, count: s.count as number };
  }
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    writer: { tool: writer.tool, ...(writer.library !== undefined ? { library: writer.library as string } : {}) },
    config_format: raw.config_format,
    config: raw.config,
    input,
    dtype: raw.dtype as TraceDtype,
    hooks: raw.hooks as string[],
    ...(positions ? { positions } : {}),
    ...(shard ? { shard } : {}),
  };
}

function parseInput(raw: unknown, at: (key: string) => Place): TraceInput {
  if (!isObject(raw)) throw new InspectorError('input must be {"ids": [[…]], "tokens"?: [[…]]}', at('input'));
  const ids = idRows(raw.ids, at('input.ids'));
  const out: TraceInput = { ids };
  if (raw.tokens !== undefined) out.tokens = tokenRows(raw.tokens, ids, at('input.tokens'));
  if (raw.decoder_ids !== undefined) {
    out.decoder_ids = idRows(raw.decoder_ids, at('input.decoder_ids'));
    if (out.decoder_ids.length !== ids.length) throw new InspectorError('decoder_ids must have the batch size of ids', at('input.decoder_ids'));
    if (raw.decoder_tokens !== undefined) out.decoder_tokens = tokenRows(raw.decoder_tokens, out.decoder_ids, at('input.decoder_tokens'));
  }
  return out;
}

function idRows(raw: unknown, place: Place): number[][] {
  const ok =
    Array.isArray(raw) &&
    raw.length > 0 &&
    raw.every((r) => Array.isArray(r) && r.length > 0 && r.length === (raw[0] as unknown[]).length && r.every((x) => Number.isInteger(x) && x >= 0));
  if (!ok) throw new InspectorError('must be a non-empty [batch][position] list of token ids, every row as long', place);
  return raw as number[][];
}

function tokenRows(raw: unknown, ids: number[][], place: Place): string[][] {
  const ok = Array.isArray(raw) && raw.length === ids.length && raw.every((r, b) => Array.isArray(r) && r.length === ids[b].length && r.every((x) => typeof x === 'string'));
  if (!ok) throw new InspectorError('must hold one token string per input id', place);
  return raw as string[][];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
