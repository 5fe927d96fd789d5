/**
 * Pure helpers shared by the analysis views: labels of ids, hook names read as layers, the
 * windows of a long lens grid. No DOM; unit-tested in test/unit/webview-analyses.test.ts.
 */
import type { AnalysisReply } from '../../../protocol/analyses';
import { visibleToken } from '../../format';

export type Labels = Map<number, string>;

export function labelMap(reply: AnalysisReply): Labels {
  return new Map(reply.labels);
}

/** The visible label of an id (its token, or `#id` when the engine sent none). */
export function tokenLabel(labels: Labels, id: number): string {
  const t = labels.get(id);
  return t === undefined ? `#${id}` : visibleToken(t);
}

/** A lens row's name: the embeddings (`blocks.0.hook_resid_pre`, `hook_embed`) → "embed", `blocks.3.hook_resid_post` → "L3". */
export function lensRowLabel(hook: string): string {
  const m = /blocks\.(\d+)\.hook_resid_(pre|mid|post)/.exec(hook);
  if (m) {
    if (m[2] === 'post') return `L${m[1]}`;
    return m[1] === '0' && m[2] === 'pre' ? 'embed' : `L${m[1]} ${m[2]}`;
  }
  if (hook.includes('embed')) return 'embed';
  return hook;
}

/** The pattern hook of a layer (where the detector grid opens a head). */
export function patternHook(layer: number): string {
  return `blocks.${layer}.attn.hook_pattern`;
}

/** Positions shown at once in the lens grid, and the window [from, to) that starts at `from`. */
export const LENS_PAGE = 32;
export function lensWindow(positions: number, from: number, page = LENS_PAGE): [number, number] {
  const start = Math.max(0, Math.min(from, Math.max(0, positions - page)));
  return [start, Math.min(positions, start + page)];
}

/** Top-k of one lens cell, most likely first. */
export function lensCell(
  view: Extract<AnalysisReply['view'], { analysis: 'lens' }>,
  depth: number,
  position: number,
): { id: number; prob: number }[] {
  const base = (depth * view.positions + position) * view.k;
  return Array.from({ length: view.k }, (_, i) => ({
    id: view.topIds[base + i],
    prob: view.topProbs[base + i],
  }));
}

/** Heads as `layer.head` keys, parsed back for the ablation request (malformed keys dropped). */
export function parseHeadKeys(keys: readonly string[]): { layer: number; head: number }[] {
  return keys
    .map((k) => /^(\d+)\.(\d+)$/.exec(k))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ layer: Number(m[1]), head: Number(m[2]) }))
    .sort((a, b) => a.layer - b.layer || a.head - b.head);
}

/** The largest |value| components first, at most `n`. */
export function strongest<T extends { value: number }>(items: readonly T[], n: number): T[] {
  return [...items].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, n);
}

/** A probability as the panel prints it: "42.1%", "0.03%", "<0.01%". */
export function percentText(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p >= 0.1) return `${(p * 100).toFixed(1)}%`;
  if (p >= 0.0001) return `${(p * 100).toFixed(2)}%`;
  return '<0.01%';
}
