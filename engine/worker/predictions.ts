import type { Tensor } from '../tensor';
import type { Prediction, Predictions } from '../../protocol/webview';

/** Predictions listed per position (the panel shows the first few; the rest are a click away). */
export const TOP_K = 10;

/**
 * What the logits say, for batch element 0: per position the top-k next tokens (softmax probability
 * and raw logit), and, where the input goes on, the rank, probability and cross-entropy loss of the
 * token that actually comes next. Softmax in float64 with the max subtracted, as torch does.
 *
 * logits [batch, pos, d_vocab]; `targets[t]` is the id that should follow position t (undefined at
 * the last position, or for an encoder, where nothing "comes next").
 */
export function predictionsView(
  logits: Tensor,
  label: (id: number) => string,
  targets: readonly (number | undefined)[],
  k = TOP_K,
): Predictions {
  const [, T, V] = logits.shape as [number, number, number];
  const keep = Math.min(k, V);
  const positions: Predictions['positions'] = [];
  let lossSum = 0;
  let lossCount = 0;
  for (let t = 0; t < T; t++) {
    const row = logits.data.subarray(t * V, (t + 1) * V); // (d_vocab) of batch 0
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (row[i] > max) max = row[i];
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(row[i] - max);
    const logSum = Math.log(sum) + max; // logsumexp
    const prob = (id: number) => Math.exp(row[id] - logSum);
    const top = topIds(row, keep).map((id): Prediction => ({ id, token: label(id), prob: prob(id), logit: row[id] }));
    const target = targets[t];
    if (target === undefined || target < 0 || target >= V) {
      positions.push({ top });
      continue;
    }
    // Rank 1 = the most likely; ties with the target count in its favour (as argsort would vary).
    let rank = 1;
    for (let i = 0; i < V; i++) if (row[i] > row[target]) rank++;
    const loss = logSum - row[target]; // −log p(target)
    lossSum += loss;
    lossCount++;
    positions.push({ top, next: { id: target, token: label(target), prob: prob(target), logit: row[target], rank, loss } });
  }
  return {
    k: keep,
    vocab: V,
    positions,
    ...(lossCount > 0 ? { meanLoss: lossSum / lossCount, scored: lossCount } : {}),
  };
}

/** The ids of the k largest values, largest first (a partial selection: O(V · k), no full sort). */
export function topIds(row: ArrayLike<number>, k: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (ids.length === k && v <= row[ids[k - 1]]) continue;
    let at = ids.length;
    while (at > 0 && row[ids[at - 1]] < v) at--;
    ids.splice(at, 0, i);
    if (ids.length > k) ids.pop();
  }
  return ids;
}

/** The id that should follow each position: the input shifted left by one (decoders). */
export function nextTokenTargets(ids: readonly number[]): (number | undefined)[] {
  return ids.map((_, t) => ids[t + 1]);
}
