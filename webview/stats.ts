/**
 * Summary statistics and histogram layout, pure. The host sends stats for matrix views; attention
 * views get theirs here, over unmasked entries only, so the −1e9 fill of masked scores does not
 * become the minimum or squash the histogram into one bar.
 */
import type { AttentionView, TensorStats } from '../protocol/webview';

/** Scores at or below this are the additive mask fill (−1e9, −∞), not data. */
export const MASKED_SCORE = -1e8;

/** True when entry (head, q, k) of an attention view is masked out. */
export function isMaskedEntry(view: AttentionView, head: number, q: number, k: number): boolean {
  if (view.mask && view.mask[q * view.keys + k] === 0) return true;
  const v = view.data[(head * view.queries + q) * view.keys + k];
  return v <= MASKED_SCORE;
}

/** Stats over the values where `include(i)` holds; rowNorms over `rows` equal rows. */
export function computeStats(
  values: ArrayLike<number>,
  include: (i: number) => boolean = () => true,
  bins = 32,
  rows = 1,
): TensorStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  const perRow = values.length / rows;
  const sq = new Float64Array(rows);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!include(i) || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    n++;
    sq[Math.floor(i / perRow)] += v * v;
  }
  if (n === 0)
    return {
      min: 0,
      max: 0,
      mean: 0,
      std: 0,
      rowNorms: Array.from(sq),
      histogram: { edges: [0, 0], counts: [0] },
    };
  const mean = sum / n;
  let dev = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (include(i) && Number.isFinite(v)) dev += (v - mean) ** 2;
  }
  const lo = min;
  const hi = max > min ? max : min + 1;
  const edges = Array.from({ length: bins + 1 }, (_, b) => lo + ((hi - lo) * b) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!include(i) || !Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]++;
  }
  return {
    min,
    max,
    mean,
    std: Math.sqrt(dev / n),
    rowNorms: Array.from(sq, Math.sqrt),
    histogram: { edges, counts },
  };
}

/** Stats of an attention view over all heads, leaving out masked entries. */
export function attentionStats(view: AttentionView): TensorStats {
  const perHead = view.queries * view.keys;
  // Which entries count, worked out once (the stats visit each entry three times).
  const keep = new Uint8Array(view.data.length);
  for (let i = 0; i < keep.length; i++) {
    const k = i % view.keys;
    const q = Math.floor((i % perHead) / view.keys);
    keep[i] = isMaskedEntry(view, Math.floor(i / perHead), q, k) ? 0 : 1;
  }
  return computeStats(view.data, (i) => keep[i] === 1);
}

/** True when the view holds any masked entry. */
export function hasMasked(view: AttentionView): boolean {
  if (view.mask?.some((m) => m === 0)) return true;
  return view.data.some((v) => v <= MASKED_SCORE);
}

export interface HistogramBar {
  /** Left edge and width in px; height in px from the baseline. */
  x: number;
  width: number;
  height: number;
  from: number;
  to: number;
  count: number;
}

/**
 * Bars for a histogram in a width × height box. Bars are at least 1 px wide and a non-empty bin is
 * at least 1 px tall; a 1 px gap separates bars when there is room for it.
 */
export function histogramLayout(
  histogram: { edges: number[]; counts: number[] },
  width: number,
  height: number,
  log = false,
): HistogramBar[] {
  const n = Math.min(histogram.counts.length, histogram.edges.length - 1);
  if (n <= 0) return [];
  // On the log scale a bar's height is log(1 + count): one value still shows beside a million.
  const size = (c: number) => (log ? Math.log1p(c) : c);
  const top = Math.max(size(1), ...histogram.counts.slice(0, n).map(size));
  const step = width / n;
  const gap = step >= 4 ? 1 : 0;
  const bars: HistogramBar[] = [];
  for (let i = 0; i < n; i++) {
    const count = histogram.counts[i];
    const x = Math.floor(i * step);
    const next = Math.floor((i + 1) * step);
    bars.push({
      x,
      width: Math.max(1, next - x - gap),
      height: count > 0 ? Math.max(1, Math.round((size(count) / top) * height)) : 0,
      from: histogram.edges[i],
      to: histogram.edges[i + 1],
      count,
    });
  }
  return bars;
}

/** Index of the bar under x, or undefined. */
export function barAt(bars: readonly HistogramBar[], x: number): number | undefined {
  for (let i = 0; i < bars.length; i++) {
    const next = i + 1 < bars.length ? bars[i + 1].x : bars[i].x + bars[i].width + 1;
    if (x >= bars[i].x && x < next) return i;
  }
  return undefined;
}

/** One head of an attention view as a view of its own (no copy: `data` is a subarray). */
export function headOnly(view: AttentionView, head: number): AttentionView {
  const size = view.queries * view.keys;
  return { ...view, heads: 1, data: view.data.subarray(head * size, (head + 1) * size) };
}

/**
 * What a pattern head does, averaged over its queries: entropy of each query's weights (nats; 0 =
 * looks at one key), and the mean weight on the query's own position, the position before it and
 * the first position (an attention sink). Masked entries count as weight 0.
 */
export function headSummary(
  view: AttentionView,
  head: number,
): { entropy: number; self: number; previous: number; first: number } {
  const { queries: Q, keys: K } = view;
  const base = head * Q * K;
  let entropy = 0;
  let self = 0;
  let previous = 0;
  let first = 0;
  let selfN = 0;
  let prevN = 0;
  for (let q = 0; q < Q; q++) {
    let hq = 0;
    for (let k = 0; k < K; k++) {
      const w = isMaskedEntry(view, head, q, k) ? 0 : view.data[base + q * K + k];
      if (w > 0) hq -= w * Math.log(w);
    }
    entropy += hq;
    const at = (k: number) =>
      k >= 0 && k < K && !isMaskedEntry(view, head, q, k) ? view.data[base + q * K + k] : 0;
    first += at(0);
    // Self and previous only mean something when queries and keys are the same positions.
    if (Q === K) {
      self += at(q);
      selfN++;
      if (q > 0) {
        previous += at(q - 1);
        prevN++;
      }
    }
  }
  return {
    entropy: entropy / Q,
    self: selfN ? self / selfN : NaN,
    previous: prevN ? previous / prevN : NaN,
    first: first / Q,
  };
}
