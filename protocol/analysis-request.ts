/**
 * Checking an analysis request that comes from the webview (untrusted): every id a safe integer,
 * every list bounded, nothing but the fields the engine reads. Tokens the user typed (a target, or
 * the corrupted input of patching) travel as text and are tokenized by the host.
 */
import type { AnalysisRequest, PatchWhat, Window } from './analyses';

/** The analyses the panel's chooser offers, in its order. */
export const ANALYSES = ['lens', 'attribution', 'heads', 'ablation', 'patching'] as const;
export type AnalysisKind = (typeof ANALYSES)[number];

/** Longest list of ids, heads or layers a request may carry. */
const MAX_LIST = 65536;
const MAX_TEXT = 100_000;

/** Texts the host tokenizes before sending the request on: a typed target or versus token, the corrupted input. */
export interface RequestTexts {
  target?: string;
  versus?: string;
  corrupted?: string;
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const optId = (v: unknown) => v === undefined || isId(v);
const isIdList = (v: unknown): v is number[] => Array.isArray(v) && v.length <= MAX_LIST && v.every(isId);
const optSmall = (v: unknown, max: number) => v === undefined || (isId(v) && v <= max);

function isHeadList(v: unknown): v is { layer: number; head: number }[] {
  return (
    Array.isArray(v) &&
    v.length <= MAX_LIST &&
    v.every((x) => typeof x === 'object' && x !== null && isId((x as Record<string, unknown>).layer) && isId((x as Record<string, unknown>).head))
  );
}

function isWindow(v: unknown): v is Window {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return isId(w.row0) && isId(w.row1) && isId(w.col0) && isId(w.col1) && w.row0 < w.row1 && w.col0 < w.col1;
}

/** A copy of the request holding only what the engine reads; undefined for anything malformed. */
export function parseAnalysisRequest(v: unknown): AnalysisRequest | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  switch (r.analysis) {
    case 'lens':
      if (!optSmall(r.top, 20) || !optId(r.target)) return undefined;
      return { analysis: 'lens', ...(r.top !== undefined && { top: r.top as number }), ...(r.target !== undefined && { target: r.target as number }) };
    case 'attribution':
      if (!isId(r.target) || !optId(r.versus) || !optId(r.position)) return undefined;
      return {
        analysis: 'attribution',
        target: r.target,
        ...(r.versus !== undefined && { versus: r.versus as number }),
        ...(r.position !== undefined && { position: r.position as number }),
      };
    case 'heads':
      if (!optSmall(r.half, 4096) || !optId(r.seed)) return undefined;
      return { analysis: 'heads', ...(r.half !== undefined && { half: r.half as number }), ...(r.seed !== undefined && { seed: r.seed as number }) };
    case 'ablation': {
      if (r.heads !== undefined && !isHeadList(r.heads)) return undefined;
      if (r.mlps !== undefined && !isIdList(r.mlps)) return undefined;
      if (r.layers !== undefined && !isIdList(r.layers)) return undefined;
      if (r.mode !== undefined && r.mode !== 'zero' && r.mode !== 'mean') return undefined;
      if (!optSmall(r.top, 20)) return undefined;
      return {
        analysis: 'ablation',
        ...(r.heads !== undefined && { heads: (r.heads as { layer: number; head: number }[]).map(({ layer, head }) => ({ layer, head })) }),
        ...(r.mlps !== undefined && { mlps: [...(r.mlps as number[])] }),
        ...(r.layers !== undefined && { layers: [...(r.layers as number[])] }),
        ...(r.mode !== undefined && { mode: r.mode as 'zero' | 'mean' }),
        ...(r.top !== undefined && { top: r.top as number }),
      };
    }
    case 'patching': {
      const what = r.what as PatchWhat | undefined;
      if (!isIdList(r.corrupted) || !isId(r.target) || !isId(r.versus)) return undefined;
      if (what !== undefined && what !== 'resid' && what !== 'heads' && what !== 'mlp') return undefined;
      return { analysis: 'patching', corrupted: [...r.corrupted], target: r.target, versus: r.versus, ...(what && { what }) };
    }
    case 'rollout':
      if (r.window !== undefined && !isWindow(r.window)) return undefined;
      if (!optSmall(r.cells, 512) || r.cells === 0) return undefined;
      return { analysis: 'rollout', ...(r.window !== undefined && { window: { ...(r.window as Window) } }), ...(r.cells !== undefined && { cells: r.cells as number }) };
    default:
      return undefined;
  }
}

/** The texts of a message, each a bounded string; undefined when malformed. */
export function parseRequestTexts(v: unknown): RequestTexts | undefined {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null) return undefined;
  const t = v as Record<string, unknown>;
  const out: RequestTexts = {};
  for (const key of ['target', 'versus', 'corrupted'] as const) {
    const s = t[key];
    if (s === undefined) continue;
    if (typeof s !== 'string' || s.length > MAX_TEXT) return undefined;
    out[key] = s;
  }
  return out;
}
