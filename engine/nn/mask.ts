/**
 * Attention masks: 1 = the query may attend to the key, 0 = masked out (filled with −1e9 before the
 * softmax, so a fully masked row becomes uniform instead of NaN). Shape [B, Tq, Tk], shared by all heads.
 */
export interface AttentionMask {
  readonly batch: number;
  readonly queries: number;
  readonly keys: number;
  readonly data: Uint8Array;
}

export const MASKED_FILL = -1e9;

export function fullMask(batch: number, queries: number, keys: number): AttentionMask {
  return { batch, queries, keys, data: new Uint8Array(batch * queries * keys).fill(1) };
}

/** Query i sees keys j ≤ i (+ offset when the keys include a cache of earlier positions). */
export function causalMask(batch: number, queries: number, keys = queries): AttentionMask {
  const m = fullMask(batch, queries, keys);
  const offset = keys - queries;
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < queries; i++)
      for (let j = 0; j < keys; j++) m.data[(b * queries + i) * keys + j] = j <= i + offset ? 1 : 0;
  return m;
}

/** Keys whose `keyValid[b][j]` is 0 (padding) are masked for every query. */
export function paddingMask(keyValid: readonly (readonly number[])[], queries: number): AttentionMask {
  const batch = keyValid.length;
  const keys = keyValid[0]?.length ?? 0;
  const m = fullMask(batch, queries, keys);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < queries; i++)
      for (let j = 0; j < keys; j++) m.data[(b * queries + i) * keys + j] = keyValid[b][j] ? 1 : 0;
  return m;
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
