import { matmulKernel } from '../kernels';
import type { Tensor } from '../tensor';

/** ‖a − b‖ / ‖a‖ (0 when both are zero). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += a[i] ** 2;
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

/** x [M, K] · w [N, K]ᵀ, no bias. */
export function project(x: Float32Array, M: number, K: number, w: Float32Array, N: number): Float32Array {
  const y = new Float32Array(M * N);
  matmulKernel().matmulBT(y, x, w, M, N, K);
  return y;
}

/** Next-token comparison of the float and the quantized model on the same sequences. */
export interface EndToEnd {
  perplexity_fp: number;
  perplexity_q: number;
  /** Mean over predicted positions of KL(p_fp ‖ p_q), nats. */
  kl_mean: number;
  /** Fraction of positions where both models' argmax agree. */
  top1_agreement: number;
  /** Positions predicted (each sequence's tokens after the first). */
  eval_tokens: number;
}

function logSoftmax(row: Float32Array, out: Float64Array): void {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < row.length; i++) out[i] = row[i] - lse;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** logits [1, T, V] of each sequence (float and quantized) and the ids [T] they were computed on. */
export function compareLogits(fp: readonly Tensor[], q: readonly Tensor[], ids: readonly number[][]): EndToEnd {
  let nllFp = 0;
  let nllQ = 0;
  let kl = 0;
  let agree = 0;
  let count = 0;
  for (let s = 0; s < ids.length; s++) {
    const V = fp[s].shape[fp[s].rank - 1];
    const T = ids[s].length;
    const lp = new Float64Array(V);
    const lq = new Float64Array(V);
    for (let t = 0; t + 1 < T; t++) {
      const rf = fp[s].data.subarray(t * V, (t + 1) * V);
      const rq = q[s].data.subarray(t * V, (t + 1) * V);
      logSoftmax(rf, lp);
      logSoftmax(rq, lq);
      const next = ids[s][t + 1];
      nllFp -= lp[next];
      nllQ -= lq[next];
      let d = 0;
      for (let v = 0; v < V; v++) d += Math.exp(lp[v]) * (lp[v] - lq[v]);
      kl += d;
      if (argmax(rf) === argmax(rq)) agree++;
      count++;
    }
  }
  const n = Math.max(count, 1);
  return { perplexity_fp: Math.exp(nllFp / n), perplexity_q: Math.exp(nllQ / n), kl_mean: kl / n, top1_agreement: agree / n, eval_tokens: count };
}
