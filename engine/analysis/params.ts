import { InspectorError } from '../errors';
import {
  childContext,
  inVariant,
  iterateIndices,
  product,
  ROOT_CONTEXT,
  tensorCategory,
  walk,
  type WalkContext,
} from './tree';
import type { ArchDesc, Category, ModuleDef, Only, TensorDef } from './types';

/** Exact parameter counts: the component tree, the totals under each convention, per-tensor expansion. */

export interface TensorRow {
  readonly name: string;
  readonly shape: readonly bigint[];
  /** Parameters of one copy; 0 when tied to another tensor. */
  readonly params: bigint;
  readonly tiedTo?: string;
  readonly note?: string;
}

export interface ComponentNode {
  readonly name: string;
  /** Weight-name prefix, `{i}` standing for a layer index, `{j}` for an expert. */
  readonly path: string;
  /** Parameters of all copies (what this node adds to its parent). */
  readonly params: bigint;
  /** Copies (layers, experts) and parameters of one copy, for repeated nodes. */
  readonly count?: bigint;
  readonly each?: bigint;
  /** Parameters a token uses, when fewer than params (mixture of experts). */
  readonly active?: bigint;
  /** In the base model only / the task model only / the extra module only: `base` and `extra` nodes are not in their parent's sum. */
  readonly only?: Only;
  readonly shared?: boolean;
  readonly note?: string;
  readonly tensors: readonly TensorRow[];
  readonly children: readonly ComponentNode[];
}

export const CATEGORIES: readonly Category[] = [
  'embeddings',
  'attention',
  'mlp',
  'experts',
  'shared_experts',
  'router',
  'norms',
  'head',
  'other',
];

export interface ParamTotals {
  /** The model class named by the config (task head included): what `total` means. */
  readonly total: bigint;
  /** The same model without a task head (`LlamaModel`, `BertModel` with its pooler). */
  readonly base: bigint;
  /** Total without token/position/type embeddings and without an untied output projection. */
  readonly nonEmbedding: bigint;
  /** Parameters one token passes through: all but the routed experts it is not sent to. */
  readonly active: bigint;
  /** Active, not counting the embedding tables (a lookup touches one row). */
  readonly activeNonEmbeddingLookup: bigint;
  /** Total with the `extra` modules (DeepSeek-V3's MTP), when there are any. */
  readonly withExtra: bigint | null;
  /** Total without frozen (never trained) parameters, when there are any. */
  readonly learned: bigint | null;
  /** What transformers' `num_parameters()` reports, when it differs from total. */
  readonly torch: bigint | null;
  readonly byCategory: Readonly<Record<Category, bigint>>;
  readonly activeByCategory: Readonly<Record<Category, bigint>>;
}

const EMBEDDING_ROLES = new Set(['embedding', 'positions', 'token_types']);

function tensorParams(t: TensorDef): bigint {
  return t.tiedTo ? 0n : product(t.shape);
}

function zeroByCategory(): Record<Category, bigint> {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0n])) as Record<Category, bigint>;
}

export function countParams(arch: ArchDesc): ParamTotals {
  let total = 0n;
  let base = 0n;
  let extra = 0n;
  let hasExtra = false;
  let embed = 0n;
  let unembed = 0n;
  let active = 0n;
  let torchOnlyBuffers = 0n;
  let frozen = 0n;
  const byCategory = zeroByCategory();
  const activeByCategory = zeroByCategory();
  walk(arch.root, {
    tensor(t, ctx) {
      const n = tensorParams(t);
      if (inVariant(ctx.only, 'extra')) extra += n * ctx.paramMult;
      if (ctx.only === 'extra') hasExtra = true;
      if (inVariant(ctx.only, 'base')) base += n * ctx.paramMult;
      if (!inVariant(ctx.only, 'task')) return;
      const all = n * ctx.paramMult;
      const act = n * ctx.activeMult;
      total += all;
      active += act;
      const cat = tensorCategory(t, ctx);
      byCategory[cat] += all;
      activeByCategory[cat] += act;
      if (EMBEDDING_ROLES.has(t.role)) embed += all;
      if (t.role === 'unembedding') unembed += all;
      if (t.torchBuffer) torchOnlyBuffers += all;
      if (t.frozen) frozen += all;
    },
  });
  const torchFrozen = arch.buffers.filter((b) => b.countedByTorch).reduce((a, b) => a + product(b.shape), 0n);
  const torch = total + torchFrozen - torchOnlyBuffers;
  return {
    total,
    base,
    nonEmbedding: total - embed - unembed,
    active,
    activeNonEmbeddingLookup: active - embed,
    withExtra: hasExtra ? extra : null,
    learned: frozen > 0n ? total - frozen : null,
    torch: torch === total ? null : torch,
    byCategory,
    activeByCategory,
  };
}

/** The display tree. A node's params are all its copies within one copy of its parent. */
export function componentTree(arch: ArchDesc): ComponentNode {
  const rec = (m: ModuleDef, parent: WalkContext, depth: number, label?: string): ComponentNode => {
    const ctx = childContext(m, parent, depth);
    const tensors: TensorRow[] = m.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      params: tensorParams(t),
      ...(t.tiedTo ? { tiedTo: t.tiedTo } : {}),
      ...(t.note ? { note: t.note } : {}),
    }));
    const children = m.children.map((c) => rec(c, ctx, depth + (m.repeat ? 1 : 0)));
    const counted = (c: ComponentNode): boolean =>
      c.only === undefined || c.only === 'task' || c.only === ctx.only;
    let each = tensors.reduce((a, t) => a + t.params, 0n);
    let activeEach = each;
    for (const c of children) {
      if (!counted(c)) continue;
      each += c.params;
      activeEach += c.active ?? c.params;
    }
    const r = m.repeat;
    const copies = r ? (r.shared ? 1n : r.count) : 1n;
    const activeCopies = r ? (r.shared ? 1n : (r.active ?? r.count)) : 1n;
    const params = each * copies;
    const active = activeEach * activeCopies;
    return {
      name: label ?? m.label ?? (m.name || '(model)'),
      path: ctx.path,
      params,
      ...(r ? { count: r.count, each } : {}),
      ...(active !== params ? { active } : {}),
      ...(m.only ? { only: m.only } : {}),
      ...(r?.shared ? { shared: true } : {}),
      ...(m.note ? { note: m.note } : {}),
      tensors,
      children,
    };
  };
  return rec(arch.root, ROOT_CONTEXT, 0, arch.modelClass);
}

export interface ExpandedTensor {
  readonly name: string;
  readonly shape: readonly bigint[];
  readonly size: bigint;
}

/**
 * Every parameter tensor by its full weight name, as the reference implementation (or the engine's
 * native builder) allocates it; tied tensors are left out, as they are one tensor. Throws past `limit`.
 */
export function expandTensors(
  arch: ArchDesc,
  variant: 'base' | 'task' | 'extra' = 'task',
  limit = 1_000_000,
): ExpandedTensor[] {
  const out: ExpandedTensor[] = [];
  const rec = (m: ModuleDef, prefix: string, only: Only | undefined): void => {
    const o = m.only ?? only;
    if (!inVariant(o, variant)) return;
    const names = (): Iterable<string> => {
      if (!m.name) return [prefix];
      const here = prefix ? `${prefix}.${m.name}` : m.name;
      if (!m.repeat) return [here];
      const idx = m.repeat.indices ?? {
        parts: [{ start: 0n, step: 1n, count: m.repeat.count }],
        count: m.repeat.count,
      };
      const it = iterateIndices(idx);
      if (m.repeat.shared) {
        const first = it.next();
        return first.done ? [] : [`${here}.${first.value}`];
      }
      return (function* () {
        for (const i of it) yield `${here}.${i}`;
      })();
    };
    for (const p of names()) {
      for (const t of m.tensors) {
        if (t.tiedTo) continue;
        if (out.length >= limit) throw new InspectorError(`more than ${limit} tensors: too many to list`);
        out.push({ name: p ? `${p}.${t.name}` : t.name, shape: t.shape, size: product(t.shape) });
      }
      for (const c of m.children) rec(c, p, o);
    }
  };
  rec(arch.root, '', undefined);
  return out;
}
