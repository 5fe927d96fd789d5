import { InspectorError } from '../errors';
import type { LayerPattern } from './heads';

/**
 * Where the next token's prediction reads from: each layer's attention row of the last query position, per
 * head ([H][T]), and attention rollout (Abnar & Zuidema 2020): with the residual connection counted as
 * attention to oneself, Â_l = ½·mean_h A_l + ½·I (rows renormalised), the rollout after layer l is
 * Â_l · Â_{l−1} ⋯ Â_0 — how much of each input token's information reaches each position.
 */
export function nextTokenAttention(patterns: readonly LayerPattern[], query?: number): number[][][] {
  return patterns.map((p) => {
    const t = query ?? p.T - 1;
    if (t < 0 || t >= p.T) throw new InspectorError(`query position ${t} is outside the input (0 … ${p.T - 1})`);
    return Array.from({ length: p.heads }, (_, h) => Array.from(p.data.subarray((h * p.T + t) * p.T, (h * p.T + t + 1) * p.T)));
  });
}

/** Attention rollout after every layer: [layers][T × T] row-major, rows summing to 1. */
export function attentionRollout(patterns: readonly LayerPattern[]): Float64Array[] {
  if (patterns.length === 0) return [];
  const T = patterns[0].T;
  let roll = identity(T);
  const out: Float64Array[] = [];
  const a = new Float64Array(T * T);
  for (const p of patterns) {
    if (p.T !== T) throw new Error('patterns of different lengths');
    // Â = ½ (mean over heads of A) + ½ I, each row renormalised.
    a.fill(0);
    for (let h = 0; h < p.heads; h++) for (let i = 0; i < T * T; i++) a[i] += p.data[h * T * T + i] / p.heads;
    for (let i = 0; i < T; i++) {
      let s = 0;
      for (let j = 0; j < T; j++) {
        a[i * T + j] = 0.5 * a[i * T + j] + (i === j ? 0.5 : 0);
        s += a[i * T + j];
      }
      for (let j = 0; j < T; j++) a[i * T + j] /= s;
    }
    const next = new Float64Array(T * T);
    for (let i = 0; i < T; i++) {
      for (let k = 0; k < T; k++) {
        const aik = a[i * T + k];
        if (aik === 0) continue;
        for (let j = 0; j < T; j++) next[i * T + j] += aik * roll[k * T + j];
      }
    }
    roll = next;
    out.push(roll);
  }
  return out;
}

function identity(T: number): Float64Array {
  const m = new Float64Array(T * T);
  for (let i = 0; i < T; i++) m[i * T + i] = 1;
  return m;
}
