import type {
  Category,
  IndexSet,
  ModuleDef,
  Only,
  Progression,
  Repeat,
  Stream,
  TensorDef,
  TensorRole,
  AttentionDef,
} from './types';

/** Builders for module trees, index sets, and the one walk every analysis pass uses. */

export const big = (n: number | bigint): bigint => (typeof n === 'bigint' ? n : BigInt(n));

export function product(shape: readonly bigint[]): bigint {
  let p = 1n;
  for (const d of shape) p *= d;
  return p;
}

// ---------------------------------------------------------------- tensors

/** nn.Linear(in, out): weight [out, in] and, with bias, bias [out]. */
export function linear(
  name: string,
  inF: number | bigint,
  outF: number | bigint,
  bias: boolean,
): TensorDef[] {
  const i = big(inF);
  const o = big(outF);
  const w: TensorDef = { name: `${name}.weight`, shape: [o, i], role: 'weight', matmul: { in: i, out: o } };
  return bias ? [w, { name: `${name}.bias`, shape: [o], role: 'bias' }] : [w];
}

/** GPT-2's Conv1D(out, in): the same matrix stored transposed, weight [in, out], bias [out]. */
export function conv1d(name: string, inF: number, outF: number): TensorDef[] {
  const i = big(inF);
  const o = big(outF);
  return [
    { name: `${name}.weight`, shape: [i, o], role: 'weight', matmul: { in: i, out: o } },
    { name: `${name}.bias`, shape: [o], role: 'bias' },
  ];
}

/** A LayerNorm (weight and bias) or an RMSNorm (weight only) over `dim`. */
export function norm(name: string, dim: number | bigint, bias: boolean, suffix = 'weight'): TensorDef[] {
  const d = big(dim);
  const w: TensorDef = { name: `${name}.${suffix}`, shape: [d], role: 'norm' };
  return bias ? [w, { name: `${name}.bias`, shape: [d], role: 'norm' }] : [w];
}

export function embedding(
  name: string,
  rows: number | bigint,
  dim: number | bigint,
  role: TensorRole,
): TensorDef {
  return { name, shape: [big(rows), big(dim)], role };
}

/** An output projection [vocab, d] to the vocabulary, its own tensor or tied to an embedding. */
export function unembedding(
  name: string,
  vocab: number | bigint,
  dim: number | bigint,
  tiedTo?: string,
): TensorDef {
  const v = big(vocab);
  const d = big(dim);
  return {
    name,
    shape: [v, d],
    role: 'unembedding',
    matmul: { in: d, out: v },
    ...(tiedTo ? { tiedTo } : {}),
  };
}

// ---------------------------------------------------------------- modules

export interface ModuleOpts {
  label?: string;
  category?: Category;
  tensors?: TensorDef[];
  children?: ModuleDef[];
  repeat?: Repeat;
  only?: Only;
  stream?: Stream;
  attention?: AttentionDef;
  note?: string;
}

export function mod(name: string, opts: ModuleOpts = {}): ModuleDef {
  const m: ModuleDef = {
    name,
    tensors: opts.tensors ?? [],
    children: opts.children ?? [],
    ...(opts.label !== undefined ? { label: opts.label } : {}),
    ...(opts.category ? { category: opts.category } : {}),
    ...(opts.repeat ? { repeat: opts.repeat } : {}),
    ...(opts.only ? { only: opts.only } : {}),
    ...(opts.stream ? { stream: opts.stream } : {}),
    ...(opts.attention ? { attention: opts.attention } : {}),
    ...(opts.note ? { note: opts.note } : {}),
  };
  return m;
}

// ---------------------------------------------------------------- index sets

export function indexRange(start: number | bigint, end: number | bigint): IndexSet {
  const s = big(start);
  const e = big(end);
  const count = e > s ? e - s : 0n;
  return { parts: count > 0n ? [{ start: s, step: 1n, count }] : [], count };
}

export function indexUnion(parts: readonly Progression[]): IndexSet {
  const kept = parts.filter((p) => p.count > 0n).map((p) => (p.count === 1n ? { ...p, step: 1n } : p));
  kept.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  // Merge runs of consecutive single steps (0–2 and 3–60 stay apart only if their kinds differ).
  const merged: Progression[] = [];
  for (const p of kept) {
    const last = merged[merged.length - 1];
    if (last && last.step === 1n && p.step === 1n && last.start + last.count === p.start) {
      merged[merged.length - 1] = { start: last.start, step: 1n, count: last.count + p.count };
    } else merged.push(p);
  }
  return { parts: merged, count: merged.reduce((a, p) => a + p.count, 0n) };
}

export function* iterateIndices(set: IndexSet): Generator<bigint> {
  const parts = [...set.parts];
  // Yield in increasing order across progressions.
  const next = parts.map(() => 0n);
  for (;;) {
    let best = -1;
    for (let k = 0; k < parts.length; k++) {
      if (next[k] >= parts[k].count) continue;
      const v = parts[k].start + next[k] * parts[k].step;
      if (best < 0 || v < parts[best].start + next[best] * parts[best].step) best = k;
    }
    if (best < 0) return;
    yield parts[best].start + next[best] * parts[best].step;
    next[best]++;
  }
}

/** `0–31`, `0, 2, …, 24`, `3–60`. */
export function describeIndices(set: IndexSet): string {
  const one = (p: Progression): string => {
    const last = p.start + (p.count - 1n) * p.step;
    if (p.count === 1n) return `${p.start}`;
    if (p.step === 1n) return `${p.start}–${last}`;
    if (p.count === 2n) return `${p.start}, ${last}`;
    return `${p.start}, ${p.start + p.step}, …, ${last}`;
  };
  if (set.parts.length === 0) return 'none';
  const shown = set.parts.slice(0, 4).map(one).join('; ');
  return set.parts.length > 4 ? `${shown}; …` : shown;
}

/**
 * Split layers 0…L−1 into groups of identical layers. `kindOf(i)` is only asked about the first index
 * of each stretch: between consecutive breakpoints a layer's kind may depend only on i mod `period`.
 * So the cost is (breakpoints × period), whatever L is.
 */
export function partitionLayers(
  layers: number,
  breakpoints: readonly number[],
  period: number,
  kindOf: (i: number) => string,
): Map<string, IndexSet> {
  const bounds = [...new Set([0, ...breakpoints.filter((b) => b > 0 && b < layers), layers])].sort(
    (a, b) => a - b,
  );
  const byKind = new Map<string, Progression[]>();
  for (let s = 0; s + 1 < bounds.length; s++) {
    const lo = bounds[s];
    const hi = bounds[s + 1];
    for (let r = 0; r < period && lo + r < hi; r++) {
      const start = lo + r;
      const count = Math.floor((hi - 1 - start) / period) + 1;
      const kind = kindOf(start);
      const list = byKind.get(kind) ?? [];
      list.push({ start: big(start), step: big(period), count: big(count) });
      byKind.set(kind, list);
    }
  }
  const out = new Map<string, IndexSet>();
  for (const [k, parts] of byKind) out.set(k, indexUnion(parts));
  return out;
}

// ---------------------------------------------------------------- the walk

export interface WalkContext {
  /** Copies of the module's weights: product of repeat counts, shared repeats counting once. */
  readonly paramMult: bigint;
  /** Copies a token touches (MoE: active experts only; shared repeats once). */
  readonly activeMult: bigint;
  /** Times the module runs per token (MoE active experts; shared repeats every time). */
  readonly execMult: bigint;
  readonly only: Only | undefined;
  readonly stream: Stream | undefined;
  readonly category: Category;
  /** Weight-name prefix with `{i}`, `{j}` for repeat indices. */
  readonly path: string;
}

export const ROOT_CONTEXT: WalkContext = {
  paramMult: 1n,
  activeMult: 1n,
  execMult: 1n,
  only: undefined,
  stream: undefined,
  category: 'other',
  path: '',
};

const INDEX_NAMES = ['i', 'j', 'k', 'l', 'm'];

export function childContext(m: ModuleDef, ctx: WalkContext, depth: number): WalkContext {
  const r = m.repeat;
  const seg = m.name
    ? r
      ? `${m.name}.{${INDEX_NAMES[Math.min(depth, INDEX_NAMES.length - 1)]}}`
      : m.name
    : '';
  const count = r ? r.count : 1n;
  const active = r ? (r.active ?? r.count) : 1n;
  if (m.only && ctx.only && m.only !== ctx.only) {
    throw new Error(`bug: module ${m.name} is ${m.only} inside ${ctx.only}`);
  }
  return {
    paramMult: ctx.paramMult * (r?.shared ? 1n : count),
    activeMult: ctx.activeMult * (r?.shared ? 1n : active),
    execMult: ctx.execMult * active,
    only: m.only ?? ctx.only,
    stream: m.stream ?? ctx.stream,
    category: m.category ?? ctx.category,
    path: seg ? (ctx.path ? `${ctx.path}.${seg}` : seg) : ctx.path,
  };
}

export function tensorCategory(t: TensorDef, ctx: WalkContext): Category {
  switch (t.role) {
    case 'norm':
      return 'norms';
    case 'embedding':
    case 'positions':
    case 'token_types':
      return 'embeddings';
    case 'unembedding':
      return 'head';
    case 'router':
      return 'router';
    default:
      return ctx.category;
  }
}

export interface Visitor {
  tensor?(t: TensorDef, ctx: WalkContext): void;
  module?(m: ModuleDef, ctx: WalkContext, parent: WalkContext): void;
}

/** Visit every module and tensor once (repeats are not expanded: the context carries the multiplicity). */
export function walk(root: ModuleDef, v: Visitor): void {
  const rec = (m: ModuleDef, parent: WalkContext, depth: number): void => {
    const ctx = childContext(m, parent, depth);
    v.module?.(m, ctx, parent);
    for (const t of m.tensors) v.tensor?.(t, ctx);
    for (const c of m.children) rec(c, ctx, depth + (m.repeat ? 1 : 0));
  };
  rec(root, ROOT_CONTEXT, 0);
}

/** Does a module (or tensor) with this `only` belong to the variant? */
export function inVariant(only: Only | undefined, variant: 'base' | 'task' | 'extra'): boolean {
  if (only === undefined) return true;
  if (variant === 'extra') return only === 'task' || only === 'extra';
  return only === variant;
}
