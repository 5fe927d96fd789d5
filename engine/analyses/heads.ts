import type { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import type { ModelInput, TransformerModel } from '../model/transformer';
import { mulberry32 } from '../model/rng';
import { runTrace, type Step } from '../trace/step';
import { blockHooks, readoutSide } from './model-view';

/**
 * Head detectors, as layers × heads tables of scores in [0, 1]. Each is the attention a head puts on a set
 * of target keys, summed over those keys and averaged over the query positions that have any:
 * - previous token: key t − 1 for query t (t ≥ 1);
 * - duplicate token: the earlier keys s < t holding the same id as the query;
 * - induction (Olsson et al. 2022): the keys s + 1 just after an earlier copy s < t of the query's id — on a
 *   sequence of random tokens repeated twice, a head that completes the pattern looks there.
 */
export type { HeadScores } from '../../protocol/analyses';
import type { HeadScores } from '../../protocol/analyses';

export type Detector = keyof HeadScores;

/** Target keys of query t for each detector. */
const TARGETS: Record<Detector, (ids: readonly number[], t: number) => number[]> = {
  previous_token: (_ids, t) => (t >= 1 ? [t - 1] : []),
  duplicate_token: (ids, t) => earlierCopies(ids, t),
  induction: (ids, t) => earlierCopies(ids, t).map((s) => s + 1),
};

function earlierCopies(ids: readonly number[], t: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < t; s++) if (ids[s] === ids[t]) out.push(s);
  return out;
}

/** One layer's pattern for one sequence: [H, T, T] as a flat array with its sizes. */
export interface LayerPattern {
  heads: number;
  T: number;
  data: Float32Array;
}

/** The self-attention pattern of every layer of the readout stack, for sequence b. */
export function layerPatterns(model: TransformerModel, steps: readonly Step[], b = 0): LayerPattern[] {
  const byName = new Map(steps.map((s) => [s.name, s.tensor]));
  return readoutSide(model).blocks.map((block) => {
    const name = blockHooks(block).pattern;
    const p: Tensor | undefined = name ? byName.get(name) : undefined;
    if (!p || p.shape[2] !== p.shape[3]) {
      throw new InspectorError(`${block.path} records no token × token self-attention pattern${name ? ` ('${name}')` : ''}: FlashAttention-style and latent-bottleneck attention keep none`);
    }
    const [, H, T] = p.shape as [number, number, number, number];
    return { heads: H, T, data: p.data.subarray(b * H * T * T, (b + 1) * H * T * T) };
  });
}

/** One detector's score for every head of one layer. */
export function detectorScores(p: LayerPattern, ids: readonly number[], detector: Detector, fromQuery = 0): number[] {
  const { heads: H, T } = p;
  if (ids.length !== T) throw new Error(`ids have ${ids.length} positions, the pattern ${T}`);
  const targets = Array.from({ length: T }, (_, t) => (t >= fromQuery ? TARGETS[detector](ids, t) : []));
  const scores: number[] = [];
  for (let h = 0; h < H; h++) {
    let sum = 0;
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (targets[t].length === 0) continue;
      const row = (h * T + t) * T;
      for (const k of targets[t]) sum += p.data[row + k];
      n++;
    }
    scores.push(n ? sum / n : 0);
  }
  return scores;
}

/**
 * A sequence of `half` random ids repeated twice, after an optional prefix (e.g. `<s>`): the standard probe
 * for induction heads. Ids are drawn uniformly from the vocabulary minus `exclude` (padding, specials).
 */
export function repeatedRandomTokens(vocab: number, half: number, seed: number, prefix: readonly number[] = [], exclude: readonly number[] = []): number[] {
  const banned = new Set(exclude);
  const pool: number[] = [];
  for (let i = 0; i < vocab; i++) if (!banned.has(i)) pool.push(i);
  if (pool.length < 2) throw new InspectorError('the vocabulary has no ids left to draw random tokens from');
  const next = mulberry32(seed);
  const span = Array.from({ length: half }, () => pool[Math.floor(next() * pool.length)]);
  return [...prefix, ...span, ...span];
}

export interface DetectOptions {
  /** The user's input: previous- and duplicate-token scores come from it (else from the random sequence). */
  input?: ModelInput;
  /** Length of the random span (repeated twice); by default 25, or what max_len allows. */
  half?: number;
  seed?: number;
  /** Ids put in front of the random sequence (the tokenizer's `<s>`). */
  prefix?: number[];
  /** Ids never drawn (besides the padding id). */
  exclude?: number[];
}

export interface DetectedHeads extends HeadScores {
  /** The repeated random sequence the induction scores come from. */
  repeated: number[];
  /** Induction scores on the user's input, when there is one. */
  inductionOnInput?: number[][];
}

/** Runs the detectors: on the user's input (previous, duplicate) and on a repeated random sequence (induction). */
export function detectHeads(model: TransformerModel, opts: DetectOptions = {}): DetectedHeads {
  const spec = model.spec;
  const prefix = opts.prefix ?? [];
  const room = Math.floor((spec.maxLen - prefix.length) / 2);
  const half = opts.half ?? Math.min(25, room);
  if (half < 2 || half > room) throw new InspectorError(`a repeated sequence of 2 × ${half} tokens (after ${prefix.length} prefix ids) does not fit max_len ${spec.maxLen}`);
  const vocab = model.decoder ? spec.tgtVocabSize : spec.vocabSize;
  const exclude = [...(opts.exclude ?? []), ...(spec.padTokenId !== null ? [spec.padTokenId] : [])];
  const repeated = repeatedRandomTokens(vocab, half, opts.seed ?? 0, prefix, exclude);
  const run = (input: ModelInput, ids: number[]) => ({ ids, patterns: layerPatterns(model, runTrace(model.forward(input)).steps) });
  const asInput = (ids: number[]): ModelInput => (model.decoder ? { ids: [ids], decoderIds: [ids] } : { ids: [ids] });
  const rand = run(asInput(repeated), repeated);
  const user = opts.input ? run(opts.input, (opts.input.decoderIds ?? opts.input.ids)[0]) : undefined;
  const base = user ?? rand;
  const table = (r: typeof rand, d: Detector, from = 0) => r.patterns.map((p) => detectorScores(p, r.ids, d, from));
  return {
    previous_token: table(base, 'previous_token'),
    duplicate_token: table(base, 'duplicate_token'),
    induction: table(rand, 'induction', prefix.length + half),
    repeated,
    ...(user ? { inductionOnInput: table(user, 'induction') } : {}),
  };
}

/** The (layer, head) with the highest score in a table. */
export function topHead(table: number[][]): { layer: number; head: number; score: number } {
  let best = { layer: -1, head: -1, score: -Infinity };
  table.forEach((row, layer) => row.forEach((score, head) => {
    if (score > best.score) best = { layer, head, score };
  }));
  return best;
}
