import type { Tensor } from '../tensor';
import type { AttentionMask } from '../nn/mask';
import type { Dim } from '../trace/hooks';
import type { AttentionView, MatrixView, TensorStats } from '../../protocol/webview';

/**
 * Reduces a traced tensor to what the panel shows: batch element 0 only, as a (tokens × features)
 * matrix with features strided down to at most MAX_COLS columns, or, for attention scores and
 * patterns, every head's (queries × keys) grid with the mask. The reduced arrays are always fresh
 * copies, so they can be transferred across the worker boundary without detaching the step's tensor.
 */
export const MAX_COLS = 512;
/** The most queries or keys an attention view carries per head: longer sides are max-pooled in tiles. */
export const MAX_ATTENTION_SIDE = 512;
export const HISTOGRAM_BINS = 32;

/** What the columns of a matrix view are, from the last dims of the tensor. */
const COL_NAMES: Partial<Record<Dim, string>> = { d_model: 'd_model', d_mlp: 'd_mlp', d_vocab: 'd_vocab', d_head: 'head × d_head', latent: 'latent', expert: 'expert' };

export interface Reduced {
  view: MatrixView | AttentionView;
  stats: TensorStats;
}

/** Columns kept when `full` features are shown in at most `max` columns: every k-th feature. */
export function strideColumns(full: number, max = MAX_COLS): number[] {
  const stride = Math.max(1, Math.ceil(full / max));
  const cols: number[] = [];
  for (let j = 0; j < full; j += stride) cols.push(j);
  return cols;
}

/**
 * A tensor [batch, pos, ...features] as a matrix view of batch element 0: rows are positions, columns
 * the flattened features (e.g. head × d_head for hook_q).
 */
export function matrixView(tensor: Tensor, dims: readonly Dim[], rowLabels: readonly string[]): Reduced {
  if (tensor.rank < 2 || dims[0] !== 'batch') throw new Error(`matrix view needs [batch, pos, …], got [${dims.join(', ')}]`);
  const rows = tensor.shape[1];
  const fullCols = tensor.shape.slice(2).reduce((a, b) => a * b, 1);
  const colIndex = strideColumns(fullCols);
  const cols = colIndex.length;
  const slice = tensor.data.subarray(0, rows * fullCols); // batch element 0: (pos, features)
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) data[r * cols + c] = slice[r * fullCols + colIndex[c]];
  }
  const view: MatrixView = {
    kind: 'matrix',
    rows,
    cols,
    data,
    colIndex,
    fullCols,
    rowLabels: labels(rowLabels, rows),
    colName: COL_NAMES[dims[dims.length - 1]] ?? dims.slice(2).join(' × '),
  };
  return { view, stats: tensorStats(slice, rows, fullCols) };
}

/**
 * Attention scores or pattern [batch, head, query, key] of batch element 0, with the mask that was
 * applied. Masked entries keep their value (−1e9 in the scores) in the view but are left out of the stats.
 */
export function attentionView(
  tensor: Tensor,
  mask: AttentionMask | undefined,
  queryLabels: readonly string[],
  keyLabels: readonly string[],
): Reduced {
  const [, heads, queries, keys] = tensor.shape as [number, number, number, number];
  const data = tensor.data.subarray(0, heads * queries * keys); // (head, query, key) of batch 0
  let m: Uint8Array | undefined;
  if (mask) {
    m = mask.data.slice(0, queries * keys); // (query, key) of batch 0, shared by every head
    if (m.every((v) => v === 1)) m = undefined;
  }
  const view = pooledAttention(data, m, heads, queries, keys, labels(queryLabels, queries), labels(keyLabels, keys));
  // Stats see the grid as rows = queries, columns = (head, key), masked entries left out.
  const perQuery = new Float32Array(queries * heads * keys);
  const keep = m && new Uint8Array(perQuery.length);
  for (let h = 0; h < heads; h++) {
    for (let q = 0; q < queries; q++) {
      for (let k = 0; k < keys; k++) {
        const to = (q * heads + h) * keys + k;
        perQuery[to] = data[(h * queries + q) * keys + k];
        if (keep && m) keep[to] = m[q * keys + k];
      }
    }
  }
  return { view, stats: tensorStats(perQuery, queries, heads * keys, keep) };
}

/**
 * min, max, mean, std (population) over every finite value that is kept, the L2 norm of each row,
 * and a HISTOGRAM_BINS-bin histogram between min and max (the last bin includes max).
 */
export function tensorStats(values: Float32Array, rows: number, cols: number, keep?: Uint8Array): TensorStats {
  let min = Infinity;
  let max = -Infinity;
  let n = 0;
  let sum = 0;
  const rowNorms: number[] = [];
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const v = values[i];
      if ((keep && keep[i] === 0) || !Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      ss += v * v;
      n++;
    }
    rowNorms.push(Math.sqrt(ss));
  }
  if (n === 0) return { min: 0, max: 0, mean: 0, std: 0, rowNorms, histogram: { edges: [0, 0], counts: [0] } };
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < rows * cols; i++) {
    const v = values[i];
    if ((keep && keep[i] === 0) || !Number.isFinite(v)) continue;
    sq += (v - mean) * (v - mean);
  }
  const width = (max - min) / HISTOGRAM_BINS;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => (i === HISTOGRAM_BINS ? max : min + i * width));
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (let i = 0; i < rows * cols; i++) {
    const v = values[i];
    if ((keep && keep[i] === 0) || !Number.isFinite(v)) continue;
    const bin = width > 0 ? Math.min(HISTOGRAM_BINS - 1, Math.floor((v - min) / width)) : 0;
    counts[bin]++;
  }
  return { min, max, mean, std: Math.sqrt(sq / n), rowNorms, histogram: { edges, counts } };
}

/**
 * The view the panel draws: every head's grid, max-pooled over tiles of fq × fk entries when a side is
 * longer than MAX_ATTENTION_SIDE (a tile is attended when any entry in it is; its value is the largest
 * attended one). The arrays are fresh copies.
 */
export function pooledAttention(
  data: Float32Array,
  m: Uint8Array | undefined,
  heads: number,
  queries: number,
  keys: number,
  queryLabels: string[],
  keyLabels: string[],
): AttentionView {
  const fq = Math.ceil(queries / MAX_ATTENTION_SIDE);
  const fk = Math.ceil(keys / MAX_ATTENTION_SIDE);
  if (fq === 1 && fk === 1) {
    return { kind: 'attention', heads, queries, keys, data: data.slice(), ...(m ? { mask: m } : {}), queryLabels, keyLabels };
  }
  const pq = Math.ceil(queries / fq);
  const pk = Math.ceil(keys / fk);
  const out = new Float32Array(heads * pq * pk);
  const outMask = m ? new Uint8Array(pq * pk) : undefined;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < pq; i++) {
      for (let j = 0; j < pk; j++) {
        let best = -Infinity;
        let first = NaN;
        let any = false;
        for (let q = i * fq; q < Math.min(queries, (i + 1) * fq); q++) {
          for (let k = j * fk; k < Math.min(keys, (j + 1) * fk); k++) {
            const v = data[(h * queries + q) * keys + k];
            if (Number.isNaN(first)) first = v;
            if (m && m[q * keys + k] === 0) continue;
            any = true;
            if (v > best) best = v;
          }
        }
        out[(h * pq + i) * pk + j] = any ? best : first;
        if (outMask && h === 0) outMask[i * pk + j] = any ? 1 : 0;
      }
    }
  }
  const tile = (names: string[], f: number, n: number) =>
    Array.from({ length: Math.ceil(n / f) }, (_, i) => (f === 1 ? names[i] : `${names[i * f]}…#${Math.min(n, (i + 1) * f) - 1}`));
  return {
    kind: 'attention',
    heads,
    queries: pq,
    keys: pk,
    data: out,
    ...(outMask ? { mask: outMask } : {}),
    queryLabels: tile(queryLabels, fq, queries),
    keyLabels: tile(keyLabels, fk, keys),
    pooled: { queries, keys, queryTile: fq, keyTile: fk },
  };
}

/** The token labels when they fit the axis; else (latents, a different sequence) position numbers. */
function labels(given: readonly string[], n: number): string[] {
  return given.length === n ? [...given] : Array.from({ length: n }, (_, i) => `#${i}`);
}

/** Heads of an overview are pooled to at most this many cells a side. */
export const OVERVIEW_SIZE = 32;

/**
 * Attention pattern [batch, head, query, key] of batch element 0, each head pooled to at most
 * `size` × `size` cells by the mean of each block (masked entries count as the 0 they are).
 */
export function poolHeads(tensor: Tensor, size = OVERVIEW_SIZE): { heads: number; rows: number; cols: number; data: Float32Array } {
  const [, heads, Q, K] = tensor.shape as [number, number, number, number];
  const fq = Math.ceil(Q / size);
  const fk = Math.ceil(K / size);
  const rows = Math.ceil(Q / fq);
  const cols = Math.ceil(K / fk);
  const data = new Float32Array(heads * rows * cols);
  for (let h = 0; h < heads; h++) {
    for (let q = 0; q < Q; q++) {
      const r = Math.floor(q / fq);
      const src = (h * Q + q) * K;
      const dst = (h * rows + r) * cols;
      for (let k = 0; k < K; k++) {
        const v = tensor.data[src + k];
        if (Number.isFinite(v)) data[dst + Math.floor(k / fk)] += v;
      }
    }
    for (let r = 0; r < rows; r++) {
      const nq = Math.min(fq, Q - r * fq);
      for (let c = 0; c < cols; c++) data[(h * rows + r) * cols + c] /= nq * Math.min(fk, K - c * fk);
    }
  }
  return { heads, rows, cols, data };
}
