/**
 * Attention masks: 1 = the query may attend to the key, 0 = masked out (filled with −1e9 before the
 * softmax, so a fully masked row becomes uniform instead of NaN). Shape [B, Tq, Tk], shared by all heads.
 *
 * Structural masks are rules (predicates on query i and key j) so that tiled attention can apply them
 * without materialising a T×T matrix; `materialize` builds the dense mask the plain path and the UI use.
 * Rules compose by AND.
 */
export interface AttentionMask {
  readonly batch: number;
  readonly queries: number;
  readonly keys: number;
  readonly data: Uint8Array;
}

export const MASKED_FILL = -1e9;

export type MaskRule =
  /** Query i sees keys j ≤ i (keys offset by Tk − Tq when keys include earlier positions). */
  | { kind: 'causal' }
  /** Mistral's sliding window: query i sees keys j with i − W < j ≤ i (combine with causal). */
  | { kind: 'sliding_window'; window: number }
  /** Block-local / chunked: i and j in the same chunk of `size` positions. */
  | { kind: 'chunked'; size: number }
  /**
   * Strided sparse (Child et al. 2019, "fixed/strided"): j is within `stride` positions of i, or
   * i − j is a multiple of `stride`.
   */
  | { kind: 'strided'; stride: number }
  /** An explicit matrix (rows = queries, columns = keys), e.g. to mix modalities; 1 = attend. */
  | { kind: 'custom'; allow: readonly (readonly number[])[] }
  /** Padding: keys whose valid[b][j] is 0 are masked for every query. */
  | { kind: 'padding'; valid: readonly (readonly number[])[] };

/** Does rule r allow query i (absolute position qi) to see key j (absolute position kj) in batch b? */
export function allows(r: MaskRule, b: number, qi: number, kj: number): boolean {
  switch (r.kind) {
    case 'causal':
      return kj <= qi;
    case 'sliding_window':
      return qi - kj < r.window && kj - qi < r.window;
    case 'chunked':
      return Math.floor(qi / r.size) === Math.floor(kj / r.size);
    case 'strided': {
      const d = Math.abs(qi - kj);
      return d < r.stride || d % r.stride === 0;
    }
    case 'custom':
      return (r.allow[qi]?.[kj] ?? 0) !== 0;
    case 'padding':
      return (r.valid[b]?.[kj] ?? 1) !== 0;
  }
}

/**
 * The dense mask for rules over Tq queries and Tk keys; queries sit at absolute positions
 * Tk − Tq … Tk − 1 (the last ones) so a query block attending to a longer key cache lines up.
 * Undefined when there are no rules.
 */
export function materialize(rules: readonly MaskRule[], batch: number, queries: number, keys: number): AttentionMask | undefined {
  if (rules.length === 0) return undefined;
  const data = new Uint8Array(batch * queries * keys);
  const offset = keys - queries;
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < queries; i++)
      for (let j = 0; j < keys; j++) {
        let ok = 1;
        for (const r of rules) {
          if (!allows(r, b, i + offset, j)) {
            ok = 0;
            break;
          }
        }
        data[(b * queries + i) * keys + j] = ok;
      }
  return { batch, queries, keys, data };
}

export function fullMask(batch: number, queries: number, keys: number): AttentionMask {
  return { batch, queries, keys, data: new Uint8Array(batch * queries * keys).fill(1) };
}

export function causalMask(batch: number, queries: number, keys = queries): AttentionMask {
  return materialize([{ kind: 'causal' }], batch, queries, keys)!;
}

export function paddingMask(keyValid: readonly (readonly number[])[], queries: number): AttentionMask {
  return materialize([{ kind: 'padding', valid: keyValid }], keyValid.length, queries, keyValid[0]?.length ?? 0)!;
}

/** Masks compose by AND: a key is attended only if every mask allows it. */
export function combineMasks(...masks: (AttentionMask | undefined)[]): AttentionMask | undefined {
  const present = masks.filter((m): m is AttentionMask => m !== undefined);
  if (present.length === 0) return undefined;
  const first = present[0];
  const data = new Uint8Array(first.data);
  for (const m of present.slice(1)) {
    if (m.batch !== first.batch || m.queries !== first.queries || m.keys !== first.keys) {
      throw new Error(`cannot combine masks of shapes [${first.batch}, ${first.queries}, ${first.keys}] and [${m.batch}, ${m.queries}, ${m.keys}]`);
    }
    for (let i = 0; i < data.length; i++) data[i] &= m.data[i];
  }
  return { ...first, data };
}
