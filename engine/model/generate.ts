import { InspectorError } from '../errors';
import { KVCache } from '../nn/kvcache';
import { runTrace } from '../trace/step';
import { mulberry32 } from './rng';
import type { Tensor } from '../tensor';
import type { TransformerModel } from './transformer';

/** How the next token is picked from the last position's logits. */
export type Sampling =
  | { kind: 'greedy' }
  /** Softmax(logits / temperature) over the k most likely tokens, drawn with a seeded generator. */
  | { kind: 'top_k'; k: number; temperature: number; seed: number };

export interface GenerateOptions {
  maxNewTokens: number;
  sampling: Sampling;
  /** false: re-run the whole sequence for every token (the reference the cache is tested against). */
  cache?: boolean;
  /** Called after each new token with its id, its logits row [V] and the ms it took. */
  onToken?: (id: number, logits: Float32Array, ms: number) => void;
}

export interface Generation {
  ids: number[];
  /** Milliseconds of the prompt's forward (prefill). */
  prefillMs: number;
  /** Milliseconds per generated token after the first (decode steps). */
  tokenMs: number[];
}

/** The logits row of the last position of batch element 0: [V]. */
export function lastRow(logits: Tensor): Float32Array {
  const [, T, V] = logits.shape as [number, number, number];
  return logits.data.subarray((T - 1) * V, T * V);
}

/** Pick the next id from a logits row. */
export function pickToken(row: Float32Array, sampling: Sampling, rand: () => number): number {
  if (sampling.kind === 'greedy') {
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  }
  const k = Math.min(sampling.k, row.length);
  const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, k);
  const t = sampling.temperature;
  const max = row[order[0]];
  const w = order.map((i) => Math.exp((row[i] - max) / t));
  const total = w.reduce((a, b) => a + b, 0);
  let u = rand() * total;
  for (let i = 0; i < k; i++) {
    u -= w[i];
    if (u <= 0) return order[i];
  }
  return order[k - 1];
}

/**
 * Append up to maxNewTokens tokens to a decoder-only model's prompt. With the cache (default) the prompt
 * runs once and each new token costs one position; without it every token re-runs the whole sequence.
 */
export function generate(model: TransformerModel, prompt: number[], opts: GenerateOptions): Generation {
  if (model.decoder || !model.main.causal) throw new InspectorError('generate needs a decoder-only (causal) model');
  if (prompt.length === 0) throw new InspectorError('generate needs at least one prompt token');
  const useCache = opts.cache ?? true;
  const cache = useCache ? new KVCache() : undefined;
  const rand = mulberry32(opts.sampling.kind === 'top_k' ? opts.sampling.seed : 0);
  const ids = [...prompt];
  const tokenMs: number[] = [];
  let t0 = performance.now();
  let logits = runTrace(model.forward({ ids: [ids], cache })).result;
  const prefillMs = performance.now() - t0;
  for (let n = 0; n < opts.maxNewTokens; n++) {
    const row = lastRow(logits);
    const next = pickToken(row, opts.sampling, rand);
    ids.push(next);
    if (n > 0) tokenMs.push(performance.now() - t0);
    opts.onToken?.(next, row, n === 0 ? prefillMs : tokenMs[tokenMs.length - 1]);
    if (n + 1 === opts.maxNewTokens || ids.length >= model.spec.maxLen) break;
    t0 = performance.now();
    logits = runTrace(model.forward({ ids: [useCache ? [next] : ids], cache })).result;
  }
  return { ids, prefillMs, tokenMs };
}
