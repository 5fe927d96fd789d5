import type { Analysis } from './index';
import type { ComponentNode } from './params';

/**
 * The two outputs of an analysis: a JSON object with exact integers (bigints print as bare digits, so a
 * count past 2^53 is never rounded), and the readable table of `transformer-inspector params`.
 */

type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json | undefined };

/** JSON text in which bigints are plain integers (exact), like JSON.stringify otherwise. */
export function stringifyExact(value: Json, indent = 2): string {
  const pad = (n: number): string => (indent > 0 ? '\n' + ' '.repeat(n * indent) : '');
  const rec = (v: Json, depth: number): string => {
    if (v === null) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[${v.map((x) => pad(depth + 1) + rec(x, depth + 1)).join(',')}${pad(depth)}]`;
    }
    const entries = Object.entries(v).filter(([, x]) => x !== undefined) as [string, Json][];
    if (entries.length === 0) return '{}';
    const sep = indent > 0 ? ': ' : ':';
    return `{${entries.map(([k, x]) => pad(depth + 1) + JSON.stringify(k) + sep + rec(x, depth + 1)).join(',')}${pad(depth)}}`;
  };
  return rec(value, 0);
}

function componentJson(n: ComponentNode): Json {
  return {
    name: n.name,
    path: n.path,
    params: n.params,
    count: n.count,
    each: n.each,
    active: n.active,
    only: n.only,
    shared: n.shared,
    note: n.note,
    tensors: n.tensors.map((t) => ({
      name: t.name,
      shape: [...t.shape],
      params: t.params,
      tied_to: t.tiedTo,
      note: t.note,
    })),
    children: n.children.map(componentJson),
  };
}

/** The `--json` object: `total`, `active`, `components`, `weights_bytes`, `kv_cache_bytes_per_token`, `flops_per_token` and the details. */
export function analysisToJson(a: Analysis): Json {
  const p = a.params;
  return {
    file: a.file,
    family: a.family,
    kind: a.kind,
    model_class: a.modelClass,
    base_class: a.baseClass,
    hidden_size: a.hidden,
    vocab_size: a.vocab,
    max_context: a.maxContext,
    total: p.total,
    active: p.active,
    base: p.base,
    non_embedding: p.nonEmbedding,
    active_without_embedding_lookup: a.isMoe ? p.activeNonEmbeddingLookup : undefined,
    with_extra: p.withExtra ?? undefined,
    learned: p.learned ?? undefined,
    torch_num_parameters: p.torch ?? undefined,
    conventions: a.conventions.map((c) => ({ key: c.key, label: c.label, params: c.params, note: c.note })),
    by_category: { ...p.byCategory },
    active_by_category: a.isMoe ? { ...p.activeByCategory } : undefined,
    components: componentJson(a.components),
    weights_bytes: Object.fromEntries(a.memory.map((m) => [m.key, m.bytes])),
    weights: a.memory.map((m) => ({
      key: m.key,
      label: m.label,
      bytes: m.bytes,
      stored: m.stored,
      note: m.note,
    })),
    kv_cache_bytes_per_token: a.kv.bytesPerToken,
    kv_cache: {
      dtype: a.kv.dtype,
      context: a.kv.context,
      batch: a.kv.batch,
      bytes_per_token: a.kv.bytesPerToken,
      bytes_for_context: a.kv.bytesForContext,
      formula: a.kv.formula,
      groups: a.kv.groups.map((g) => ({
        kind: g.kind,
        layers: g.layers,
        window: g.window,
        elements_per_token: g.elementsPerToken,
        bytes_per_token: g.bytesPerToken,
        tokens_held: g.tokensHeld,
        bytes_for_context: g.bytesForContext,
        formula: g.formula,
      })),
      naive: a.kv.naive && {
        bytes_per_token: a.kv.naive.bytesPerToken,
        bytes_for_context: a.kv.naive.bytesForContext,
        formula: a.kv.naive.formula,
      },
      cross: a.kv.cross && {
        bytes_per_source_token: a.kv.cross.bytesPerSourceToken,
        bytes_for_source: a.kv.cross.bytesForSource,
        formula: a.kv.cross.formula,
      },
      note: a.kv.note,
    },
    flops_per_token: a.flops.perToken,
    flops: {
      context: a.flops.context,
      per_token: a.flops.perToken,
      matmul: a.flops.matmul,
      attention: a.flops.attention,
      encoder_per_token: a.flops.encoderPerToken,
      decoder_per_token: a.flops.decoderPerToken,
      per_sequence: a.flops.perSequence,
      breakdown: a.flops.breakdown.map((b) => ({ name: b.name, flops: b.flops })),
      formula: a.flops.formula,
    },
    buffers: a.buffers.map((b) => ({
      name: b.name,
      shape: [...b.shape],
      size: b.shape.reduce((x, y) => x * y, 1n),
      note: b.note,
    })),
    notes: [...a.notes],
  };
}

// ---------------------------------------------------------------- formatting

/** 6738415616n → "6,738,415,616". */
export function formatCount(n: bigint): string {
  const s = (n < 0n ? -n : n).toString();
  return (n < 0n ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 6738415616n → "6.74 B" (decimal units: K, M, B, T, Q; past that, scientific notation). */
export function formatShort(n: bigint): string {
  return scaled(n, ['', ' K', ' M', ' B', ' T', ' Q'], 1000);
}

function scaled(n: bigint, units: readonly string[], base: number): string {
  const b = BigInt(base);
  let k = 0;
  let d = n < 0n ? -n : n;
  while (k < units.length - 1 && d >= b) {
    d /= b;
    k++;
  }
  if (d >= b) return `${Number(n).toExponential(2)}${units[0]}`;
  const x = Number(n) / base ** k;
  const digits = k === 0 || Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return `${x.toFixed(digits)}${units[k]}`;
}

/** 6.54e9 → "6.54 GFLOP". */
export function formatFlops(n: bigint): string {
  return scaled(
    n,
    [' FLOP', ' kFLOP', ' MFLOP', ' GFLOP', ' TFLOP', ' PFLOP', ' EFLOP', ' ZFLOP', ' YFLOP'],
    1000,
  );
}

/** Bytes in binary units: "2.00 GiB", "512 KiB", "70,272 B". */
export function formatBytes(n: bigint): string {
  return n < 1024n
    ? `${formatCount(n)} B`
    : scaled(n, [' B', ' KiB', ' MiB', ' GiB', ' TiB', ' PiB', ' EiB'], 1024);
}

/** Decimal beside binary, as model cards quote weights: "13.48 GB (12.55 GiB)". */
export function formatWeightBytes(n: bigint): string {
  if (n < 1000n) return `${formatCount(n)} B`;
  return `${scaled(n, [' B', ' kB', ' MB', ' GB', ' TB', ' PB', ' EB'], 1000)} (${formatBytes(n)})`;
}
