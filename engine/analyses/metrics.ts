import type { Tensor } from '../tensor';
import { InspectorError } from '../errors';

/** One row of logits [V] at (batch b, position t) of a [B, T, V] tensor. */
export function logitRow(logits: Tensor, b: number, t: number): Float32Array {
  const [, T, V] = logits.shape as [number, number, number];
  return logits.data.subarray((b * T + t) * V, (b * T + t + 1) * V);
}

/** log Σ exp(row), in float64. */
export function logSumExp(row: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return max + Math.log(sum);
}

export type { TokenProb } from '../../protocol/analyses';
import type { TokenProb } from '../../protocol/analyses';

/** The k most likely ids of a logit row, most likely first (ties: the lower id first). */
export function topK(row: Float32Array, k: number): TokenProb[] {
  const lse = logSumExp(row);
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    if (best.length === k && row[i] <= row[best[k - 1]]) continue;
    let j = best.length < k ? best.length : k - 1;
    if (best.length < k) best.push(i);
    while (j > 0 && row[best[j - 1]] < row[i]) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = i;
  }
  return best.map((id) => ({ id, prob: Math.exp(row[id] - lse) }));
}

/** Probability and rank (0 = most likely: the number of ids with a strictly larger logit) of one id. */
export function probAndRank(row: Float32Array, id: number): { id: number; prob: number; rank: number } {
  let rank = 0;
  for (let i = 0; i < row.length; i++) if (row[i] > row[id]) rank++;
  return { id, prob: Math.exp(row[id] - logSumExp(row)), rank };
}

/** Cross-entropy (nats) of predicting ids[b][t + 1] at position t, for t = 0 … T − 2: [B][T − 1]. */
export function nextTokenLosses(logits: Tensor, ids: number[][]): number[][] {
  const [B, T] = logits.shape as [number, number, number];
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    const row: number[] = [];
    for (let t = 0; t + 1 < T; t++) {
      const r = logitRow(logits, b, t);
      row.push(logSumExp(r) - r[ids[b][t + 1]]);
    }
    out.push(row);
  }
  return out;
}

/** Mean next-token cross-entropy over positions [from, to) of the predictions (all by default), every sequence. */
export function meanLoss(logits: Tensor, ids: number[][], from = 0, to = Infinity): number {
  let sum = 0;
  let n = 0;
  for (const row of nextTokenLosses(logits, ids)) {
    for (let t = from; t < Math.min(to, row.length); t++) {
      sum += row[t];
      n++;
    }
  }
  if (n === 0) throw new InspectorError('a loss needs at least two tokens (a token and the one it predicts)');
  return sum / n;
}

/** logit[target] − logit[versus] (or logit[target] alone) at (b, t). */
export function logitDifference(logits: Tensor, b: number, t: number, target: number, versus?: number): number {
  const r = logitRow(logits, b, t);
  return r[target] - (versus === undefined ? 0 : r[versus]);
}

/** Check a token id against a vocabulary. */
export function checkToken(id: number, vocab: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new InspectorError(`${what}: id ${id} is outside the vocabulary (0 … ${vocab - 1})`);
  return id;
}
