import { analyzeConfig, type Analysis, type ComponentNode } from '../../engine/analysis/index';
import { tensorCategory, walk } from '../../engine/analysis/tree';
import { formatBytes, formatCount, formatShort } from '../../engine/analysis/report';
import type { AttentionDef, Category } from '../../engine/analysis/types';
import { isObject, type JsonObject, type JsonValue } from '../../engine/config/json';

/**
 * What a config key implies, in numbers, for hovers and the CodeLens. Every number comes from
 * `engine/analysis` (`analyzeConfig`): this module picks and formats, it does no model arithmetic.
 * Comparisons ("vs. full multi-head attention") analyse a copy of the config with the key changed.
 * Pure: no vscode.
 */

/** Which fact a key is about; the same role under each family's name for it. */
export type KeyRole = 'kvHeads' | 'heads' | 'ffn' | 'width' | 'layers' | 'vocab' | 'context' | 'headDim';

export const KEY_ROLE: Readonly<Record<string, KeyRole>> = {
  num_kv_heads: 'kvHeads',
  num_key_value_heads: 'kvHeads',
  num_heads: 'heads',
  num_attention_heads: 'heads',
  n_head: 'heads',
  encoder_attention_heads: 'heads',
  decoder_attention_heads: 'heads',
  d_ff: 'ffn',
  intermediate_size: 'ffn',
  n_inner: 'ffn',
  encoder_ffn_dim: 'ffn',
  decoder_ffn_dim: 'ffn',
  moe_intermediate_size: 'ffn',
  d_model: 'width',
  hidden_size: 'width',
  n_embd: 'width',
  num_layers: 'layers',
  num_hidden_layers: 'layers',
  n_layer: 'layers',
  num_decoder_layers: 'layers',
  encoder_layers: 'layers',
  decoder_layers: 'layers',
  vocab_size: 'vocab',
  tgt_vocab_size: 'vocab',
  max_len: 'context',
  max_position_embeddings: 'context',
  n_positions: 'context',
  head_dim: 'headDim',
};

/** The categories a feed-forward key is about: dense MLPs, experts, shared experts and their router. */
export const FFN: readonly Category[] = ['mlp', 'experts', 'shared_experts', 'router'];

/** The total split by category; the parts add up to the total (a unit test checks every config). */
export function categoryParts(a: Analysis): { label: string; count: bigint }[] {
  const c = a.params.byCategory;
  const parts = [
    { label: 'Embeddings', count: c.embeddings },
    { label: 'attention', count: c.attention },
    { label: 'feed-forward', count: c.mlp + c.experts + c.shared_experts + c.router },
    { label: 'norms', count: c.norms },
    { label: 'head', count: c.head },
    { label: 'other', count: c.other },
  ];
  return parts.filter((p, i) => i < 5 || p.count > 0n);
}

function categoryLine(a: Analysis): string {
  return `${categoryParts(a).map((p) => `${p.label} ${formatCount(p.count)}`).join(', ')}.`;
}

/** The key holding the number of query heads, for the KV-head comparison. */
const HEADS_KEY: Readonly<Record<string, string>> = { num_kv_heads: 'num_heads', num_key_value_heads: 'num_attention_heads' };

export interface AnalysisInput {
  json: JsonValue;
  file: string;
  native: boolean;
}

export function analyze(input: AnalysisInput): Analysis {
  return analyzeConfig(input.json, { file: input.file, native: input.native });
}

/** One line for the CodeLens: the total the config names. */
export function totalLine(a: Analysis): string {
  const active = a.params.active < a.params.total ? ` · ${formatShort(a.params.active)} active per token` : '';
  return `${formatCount(a.params.total)} parameters (${formatShort(a.params.total)})${active} · ${a.modelClass}`;
}

/** Markdown lines on what `key` implies for this model; empty when the key has no numbers to show. */
export function keyFacts(key: string, a: Analysis, input: AnalysisInput): string[] {
  const role = KEY_ROLE[key];
  const total = `${formatCount(a.params.total)} parameters in total`;
  switch (role) {
    case 'kvHeads':
      return kvHeadFacts(key, a, input);
    case 'heads':
    case 'headDim': {
      const att = firstSelfAttention(a);
      const lines: string[] = [];
      if (att) {
        const kv = att.mla
          ? `keys and values decompressed from a shared latent of rank ${att.mla.kvLoraRank} (${attentionKindName(att)})`
          : att.kvHeads === att.heads
            ? 'as many key/value heads (multi-head)'
            : `${att.kvHeads} key/value head${att.kvHeads > 1 ? 's' : ''} (${att.kvHeads === 1 ? 'multi-query' : 'grouped-query'})`;
        lines.push(`${att.heads} query heads of d_head = **${att.qkHeadDim}**${att.vHeadDim !== att.qkHeadDim ? ` (values ${att.vHeadDim})` : ''}; ${kv}.`);
      }
      lines.push(...perLayerLines(a, ['attention'], 'Attention'));
      return [...lines, total];
    }
    case 'ffn':
      return [...perLayerLines(a, FFN, 'Feed-forward'), total];
    case 'width':
      return [
        `**${formatCount(a.params.total)}** parameters (${formatShort(a.params.total)}); ${formatCount(a.params.nonEmbedding)} without embeddings.`,
        categoryLine(a),
        ...memoryLines(a),
      ];
    case 'layers': {
      const stacks = layerStacks(a);
      const named = stacks.length > 1;
      const lines = stacks.map(({ node: s, extra }) => {
        const n = s.count ?? 1n;
        const label = named || extra ? ` (${s.name}${extra ? ', not in the model’s total' : ''})` : '';
        return `\`${s.path}\`${label}: ${formatCount(n)} ${n === 1n ? 'layer' : 'layers'} × ${formatCount(s.each ?? s.params)} = **${formatCount(s.params)}** parameters${s.shared ? ' (one shared set of weights)' : ''}.`;
      });
      return [...lines, total, `Forward pass: ${formatCount(a.flops.perToken)} FLOPs per token at a context of ${formatCount(a.flops.context)}.`];
    }
    case 'vocab': {
      const lines = [`Token embeddings (and positions): **${formatCount(a.params.byCategory.embeddings)}** parameters.`];
      const head = a.params.byCategory.head;
      lines.push(head > 0n ? `Output projection (LM head): ${formatCount(head)} parameters.` : 'Output projection: tied to the token embedding (no parameters of its own).');
      return [...lines, total];
    }
    case 'context': {
      const lines = [`Context used for the numbers below: ${formatCount(a.kv.context)} tokens.`];
      lines.push(a.kv.bytesPerToken > 0n ? `KV cache at that context: **${formatBytes(a.kv.bytesForContext)}** (${a.kv.dtype}, ${formatBytes(a.kv.bytesPerToken)} per token).` : `No KV cache: ${a.kv.note ?? a.kv.formula}.`);
      lines.push(`Forward pass: ${formatCount(a.flops.perToken)} FLOPs per token (${a.flops.formula}).`);
      return lines;
    }
    default:
      return [];
  }
}

function kvHeadFacts(key: string, a: Analysis, input: AnalysisInput): string[] {
  const att = firstSelfAttention(a);
  const lines: string[] = [];
  if (att) {
    if (att.mla) {
      lines.push(`${attentionKindName(att)}: ${att.heads} query heads, each with its own keys and values, decompressed from one shared latent of rank ${att.mla.kvLoraRank} plus a ${att.mla.ropeDim}-dim RoPE key; d_head = **${att.qkHeadDim}** (values ${att.vHeadDim}). The KV cache holds the latent, not per-head keys and values.`);
    } else {
      lines.push(`${att.heads} query heads share ${att.kvHeads} key/value head${att.kvHeads > 1 ? 's' : ''} (${attentionKindName(att)}); d_head = **${att.qkHeadDim}**.`);
    }
  }
  if (a.kv.bytesPerToken === 0n) {
    lines.push(`KV cache: none (${a.kv.note ?? a.kv.formula}).`);
    return lines;
  }
  lines.push(`KV cache: **${formatBytes(a.kv.bytesPerToken)} per token** (${a.kv.formula}); ${formatBytes(a.kv.bytesForContext)} at ${formatCount(a.kv.context)} tokens.`);
  const headsKey = HEADS_KEY[key];
  if (att && !att.mla && headsKey && att.kvHeads !== att.heads && isObject(input.json)) {
    const mha = analyzeVariant(input, { [key]: att.heads });
    if (mha && mha.kv.bytesPerToken > 0n) {
      lines.push(`With full multi-head attention (${key} = ${att.heads}) it would be ${formatBytes(mha.kv.bytesPerToken)} per token, ${formatBytes(mha.kv.bytesForContext)} at ${formatCount(mha.kv.context)} tokens: grouped-query keeps ${att.kvHeads} of ${att.heads} K/V heads.`);
    }
  }
  return lines;
}

/** What this attention is called: latent, multi-head, multi-query or grouped-query. */
export function attentionKindName(att: AttentionDef): string {
  if (att.mla) return 'multi-head latent attention (MLA)';
  return att.kvHeads === att.heads ? 'multi-head attention' : att.kvHeads === 1 ? 'multi-query attention' : 'grouped-query attention';
}

/** The analysis of the config with some keys replaced; undefined if that config is invalid. */
export function analyzeVariant(input: AnalysisInput, changes: JsonObject): Analysis | undefined {
  if (!isObject(input.json)) return undefined;
  try {
    return analyze({ ...input, json: { ...input.json, ...changes } });
  } catch {
    return undefined;
  }
}

function memoryLines(a: Analysis): string[] {
  const rows = a.memory.filter((m) => m.key === 'fp32' || m.key === 'bf16' || m.stored);
  return rows.length ? [`Weights: ${rows.map((m) => `${m.label} ${formatBytes(m.bytes)}${m.stored ? ' (as stored)' : ''}`).join(', ')}.`] : [];
}

function firstSelfAttention(a: Analysis): AttentionDef | undefined {
  let found: AttentionDef | undefined;
  walk(a.arch.root, {
    module(m) {
      if (!found && m.attention && !m.attention.cross) found = m.attention;
    },
  });
  return found;
}

/** The repeated layer stacks (`model.layers.{i}`, `encoder.layers.{i}`…) of the component tree, extra modules marked. */
function layerStacks(a: Analysis): { node: ComponentNode; extra: boolean }[] {
  const out: { node: ComponentNode; extra: boolean }[] = [];
  const rec = (n: ComponentNode, extra: boolean) => {
    if (n.count !== undefined && n.children.length > 0) out.push({ node: n, extra: extra || n.only === 'extra' });
    else for (const c of n.children) if (c.only !== 'base') rec(c, extra || c.only === 'extra');
  };
  rec(a.components, false);
  return out;
}

/** One line of a per-layer breakdown: a sublayer of one layer stack. */
export interface LayerLine {
  /** The sublayer's weight path, e.g. `model.layers.{i}.mlp`. */
  path: string;
  /** The stack's own name, e.g. "layers 3–60 (MoE)". */
  stack: string;
  layers: bigint;
  /** The layers share one set of weights (counted once). */
  shared: boolean;
  perLayer: bigint;
  /** layers × perLayer (perLayer once when the layers share their weights). */
  total: bigint;
  /** An extra module (multi-token prediction) that the model's total leaves out. */
  extra: boolean;
  /** What one layer's parameters are: tensors, or the parts of a mixture of experts. */
  parts: string[];
  /** Of perLayer, the parameters the totals count under another category (norms inside attention). */
  outside: bigint;
  /** Outside any layer stack: one copy for the whole model. */
  once?: boolean;
}

/**
 * The sublayers of these categories in every layer stack, with what each holds, and their sum over
 * the stacks counted in the model's total (extra modules are listed, labelled, and left out of it).
 * `sum` equals the analysis' own count of those categories (a unit test holds every config to it).
 */
export function layerBreakdown(a: Analysis, categories: readonly Category[]): { lines: LayerLine[]; sum: bigint; otherCategories: bigint } {
  const category = new Map<string, Category>();
  const tensorCat = new Map<string, Category>();
  walk(a.arch.root, {
    module(_m, ctx) {
      category.set(ctx.path, ctx.category);
    },
    tensor(t, ctx) {
      tensorCat.set(ctx.path ? `${ctx.path}.${t.name}` : t.name, tensorCategory(t, ctx));
    },
  });
  /** Parameters of one copy of `c` that the totals count under another category (a norm inside attention). */
  const outside = (c: ComponentNode): bigint => {
    let n = 0n;
    for (const t of c.tensors) {
      const cat = tensorCat.get(`${c.path}.${t.name}`);
      if (cat && !categories.includes(cat)) n += t.params;
    }
    for (const k of c.children) if (k.only !== 'base' && k.only !== 'extra') n += (k.count ?? 1n) * (k.each !== undefined ? outsideEach(k) : outside(k));
    return n;
  };
  const outsideEach = (k: ComponentNode): bigint => {
    let n = 0n;
    for (const t of k.tensors) {
      const cat = tensorCat.get(`${k.path}.${t.name}`);
      if (cat && !categories.includes(cat)) n += t.params;
    }
    return n;
  };
  const lines: LayerLine[] = [];
  const visit = (n: ComponentNode, extra: boolean) => {
    const isExtra = extra || n.only === 'extra';
    if (n.count !== undefined && n.children.length > 0) {
      const stack = n;
      // The outermost sublayers of these categories, however deep (T5 nests them in layer.N).
      const collect = (c: ComponentNode) => {
        const cat = category.get(c.path);
        if (cat && categories.includes(cat)) {
          const total = stack.shared ? c.params : (stack.count ?? 1n) * c.params;
          lines.push({ path: c.path, stack: stack.name, layers: stack.count ?? 1n, shared: stack.shared === true, perLayer: c.params, total, extra: isExtra, parts: partsOf(c, tensorCat), outside: outside(c) });
        } else if (c.count === undefined) {
          for (const k of c.children) if (k.only !== 'base') collect(k);
        }
      };
      for (const c of n.children) if (c.only !== 'base') collect(c);
      return;
    }
    // A sublayer of these categories outside any stack (T5's relative position bias, kept once).
    const cat = category.get(n.path);
    if (n !== a.components && cat && categories.includes(cat) && n.tensors.length > 0) {
      lines.push({ path: n.path, stack: n.name, layers: 1n, shared: false, perLayer: n.params, total: n.params, extra: isExtra, parts: partsOf(n, tensorCat), outside: outside(n), once: true });
      return;
    }
    for (const c of n.children) if (c.only !== 'base') visit(c, isExtra);
  };
  visit(a.components, false);
  const counted = lines.filter((l) => !l.extra);
  return { lines, sum: counted.reduce((t, l) => t + l.total, 0n), otherCategories: counted.reduce((t, l) => t + l.layers * l.outside, 0n) };
}

/** A sublayer's tensors with their shapes; for a mixture of experts its experts, shared experts and router. */
function partsOf(c: ComponentNode, tensorCat: ReadonlyMap<string, Category>): string[] {
  const tensors = c.tensors.map((t) => `\`${t.name}\` [${t.shape.join(', ')}]`);
  if (c.children.length === 0) return tensors;
  const parts = c.children.map((k) => {
    const copies = k.count !== undefined ? `${formatCount(k.count)} × ${formatCount(k.each ?? 0n)}` : formatCount(k.params);
    const active = k.active !== undefined && k.count !== undefined && k.each ? ` (${formatCount(k.active / k.each)} active per token)` : '';
    return `\`${k.path.slice(c.path.length + 1) || k.name}\` ${copies}${active}`;
  });
  const own = c.tensors.reduce((t, x) => t + x.params, 0n);
  const router = c.tensors.length > 0 && c.tensors.every((t) => tensorCat.get(`${c.path}.${t.name}`) === 'router');
  if (router) parts.push(`router ${formatCount(own)} (${tensors.join(', ')})`);
  else parts.push(...tensors);
  return parts;
}

/** For each layer stack, its sublayers of these categories: parameters per layer, with the tensors' shapes. */
function perLayerLines(a: Analysis, categories: readonly Category[], what: string): string[] {
  const { lines: rows, sum, otherCategories } = layerBreakdown(a, categories);
  const named = new Set(rows.filter((r) => !r.once).map((r) => r.stack)).size > 1 || rows.some((r) => r.extra);
  const lines = rows.map((r) => {
    const where = named ? `: ${r.stack}` : '';
    const extra = r.extra ? ' — not in the model’s total' : '';
    if (r.once) return `${what} \`${r.path}\`, ${r.stack}: **${formatCount(r.total)}** parameters${r.parts.length ? ` (${r.parts.join(', ')})` : ''}, once for the model${extra}.`;
    return `${what} \`${r.path}\`: **${formatCount(r.perLayer)}** parameters per layer${r.parts.length ? ` (${r.parts.join(', ')})` : ''}, in ${formatCount(r.layers)} ${r.layers === 1n ? 'layer' : 'layers'}${r.shared ? ' sharing one set of weights' : ''}${where}${extra}.`;
  });
  if (sum > 0n) {
    const terms = rows.filter((r) => !r.extra);
    const shown = terms.length > 1 ? ` (${terms.map((r) => (r.shared || r.once ? formatCount(r.total) : `${formatCount(r.layers)} × ${formatCount(r.perLayer)}`)).join(' + ')})` : '';
    const norms = otherCategories > 0n ? `; ${formatCount(otherCategories)} of them are norm weights inside these sublayers, counted with the norms in the totals` : '';
    lines.push(`${what}, all layers: **${formatCount(sum)}** parameters${shown}${norms}.`);
  }
  return lines;
}
