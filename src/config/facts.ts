import { analyzeConfig, type Analysis, type ComponentNode } from '../../engine/analysis/index';
import { walk } from '../../engine/analysis/tree';
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
  return `${formatCount(a.params.total)} parameters (${formatShort(a.params.total)}) · ${a.modelClass}`;
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
        lines.push(`${att.heads} query heads of d_head = **${att.qkHeadDim}**${att.vHeadDim !== att.qkHeadDim ? ` (values ${att.vHeadDim})` : ''}; ${att.kvHeads === att.heads ? 'as many key/value heads (multi-head)' : `${att.kvHeads} key/value head${att.kvHeads > 1 ? 's' : ''} (${att.kvHeads === 1 ? 'multi-query' : 'grouped-query'})`}.`);
      }
      lines.push(...perLayerLines(a, ['attention'], 'Attention'));
      return [...lines, total];
    }
    case 'ffn':
      return [...perLayerLines(a, ['mlp', 'experts', 'shared_experts'], 'Feed-forward'), total];
    case 'width':
      return [
        `**${formatCount(a.params.total)}** parameters (${formatShort(a.params.total)}); ${formatCount(a.params.nonEmbedding)} without embeddings.`,
        `Embeddings ${formatCount(a.params.byCategory.embeddings)}, attention ${formatCount(a.params.byCategory.attention)}, feed-forward ${formatCount(a.params.byCategory.mlp + a.params.byCategory.experts + a.params.byCategory.shared_experts)}, norms ${formatCount(a.params.byCategory.norms)}, head ${formatCount(a.params.byCategory.head)}.`,
        ...memoryLines(a),
      ];
    case 'layers': {
      const stacks = layerStacks(a);
      const lines = stacks.map((s) => `\`${s.path}\`: ${formatCount(s.count ?? 1n)} layers × ${formatCount(s.each ?? s.params)} = **${formatCount(s.params)}** parameters${s.shared ? ' (one shared set of weights)' : ''}.`);
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
    const kind = att.kvHeads === att.heads ? 'multi-head attention' : att.kvHeads === 1 ? 'multi-query attention' : 'grouped-query attention';
    lines.push(`${att.heads} query heads share ${att.kvHeads} key/value head${att.kvHeads > 1 ? 's' : ''} (${kind}); d_head = **${att.qkHeadDim}**.`);
  }
  if (a.kv.bytesPerToken === 0n) {
    lines.push(`KV cache: none (${a.kv.note ?? a.kv.formula}).`);
    return lines;
  }
  lines.push(`KV cache: **${formatBytes(a.kv.bytesPerToken)} per token** (${a.kv.formula}); ${formatBytes(a.kv.bytesForContext)} at ${formatCount(a.kv.context)} tokens.`);
  const headsKey = HEADS_KEY[key];
  if (att && headsKey && att.kvHeads !== att.heads && isObject(input.json)) {
    const mha = analyzeVariant(input, { [key]: att.heads });
    if (mha && mha.kv.bytesPerToken > 0n) {
      lines.push(`With full multi-head attention (${key} = ${att.heads}) it would be ${formatBytes(mha.kv.bytesPerToken)} per token, ${formatBytes(mha.kv.bytesForContext)} at ${formatCount(mha.kv.context)} tokens: grouped-query keeps ${att.kvHeads} of ${att.heads} K/V heads.`);
    }
  }
  return lines;
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

/** The repeated layer stacks (`model.layers.{i}`, `encoder.layers.{i}`…) of the component tree. */
function layerStacks(a: Analysis): ComponentNode[] {
  const out: ComponentNode[] = [];
  const rec = (n: ComponentNode) => {
    if (n.count !== undefined && n.children.length > 0) out.push(n);
    else n.children.forEach(rec);
  };
  rec(a.components);
  return out;
}

/** For each layer stack, its sublayers of these categories: parameters per layer, with the tensors' shapes. */
function perLayerLines(a: Analysis, categories: readonly Category[], what: string): string[] {
  const category = new Map<string, Category>();
  walk(a.arch.root, {
    module(_m, ctx) {
      category.set(ctx.path, ctx.category);
    },
  });
  const lines: string[] = [];
  for (const stack of layerStacks(a)) {
    for (const c of stack.children) {
      const cat = category.get(c.path);
      if (!cat || !categories.includes(cat)) continue;
      const shapes = c.tensors.map((t) => `\`${t.name}\` [${t.shape.join(', ')}]`).join(', ');
      const perLayer = c.count !== undefined ? `${formatCount(c.count)} × ${formatCount(c.each ?? 0n)} = ${formatCount(c.params)}` : formatCount(c.params);
      lines.push(`${what} \`${c.path}\`: **${perLayer}** parameters per layer${shapes ? ` (${shapes})` : ''}, in ${formatCount(stack.count ?? 1n)} layers${stack.shared ? ' sharing one set of weights' : ''}.`);
    }
  }
  const sum = categories.reduce((s, c) => s + a.params.byCategory[c], 0n);
  if (sum > 0n) lines.push(`${what}, all layers: **${formatCount(sum)}** parameters.`);
  return lines;
}
