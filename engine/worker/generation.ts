import { InspectorError } from '../errors';
import { KVCache, cachePrefix } from '../nn/kvcache';
import { lastRow, pickToken, type Sampling } from '../model/generate';
import { mulberry32 } from '../model/rng';
import type { Step, Trace } from '../trace/step';
import type { Tensor } from '../tensor';
import type { TransformerModel } from '../model/transformer';
import { layerOf } from './layer-progress';

/** How a long computation checks for cancellation and reports progress (the session's Control). */
export interface GenerationControl {
  cancelled(): boolean;
  progress(message: string, fraction?: number): void;
}

/** One position computed alone over the cached keys: its every step, shapes [1, 1, …], attention [1, H, 1, p + 1]. */
export interface TracedPosition {
  position: number;
  steps: Step[];
  /** logits [1, 1, d_vocab]: what comes after this position. */
  logits: Tensor;
}

/** A token the generation appended, with its probability under the logits it was picked from. */
export interface AppendedToken {
  position: number;
  id: number;
  prob: number;
}

/**
 * Generate Next Token in the worker: the KV cache of the input (filled once by a prefill pass), the tokens
 * appended to it, and the steps of the last new position. Each new token costs one position; a generated
 * position shown again is re-traced over the cache's first `position` keys, the keys it saw, so its steps are
 * those it had. A Set Input or a reload drops the whole generation (the session makes a new one).
 */
export class Generation {
  /** Appended tokens, in order (positions promptLength, promptLength + 1, …). */
  readonly tokens: AppendedToken[] = [];

  private constructor(
    private readonly model: TransformerModel,
    /** Keys and values of positions 0 … ids.length − 1, per layer. */
    private cache: KVCache,
    readonly promptLength: number,
    /** The input ids so far: the prompt, then the appended tokens. */
    readonly ids: number[],
    /** logits row [d_vocab] of the last position: the next token is picked from it. */
    private nextLogits: Float32Array,
    /** The last position's steps (undefined until a token is appended). */
    private last: TracedPosition | undefined,
  ) {}

  /** Run the input once with a cache (decoder-only models). Undefined when cancelled first. */
  static prefill(model: TransformerModel, ids: readonly number[], control: GenerationControl): Generation | undefined {
    if (model.decoder || !model.main.causal) throw new InspectorError('Generate Next Token needs a decoder-only (causal) model: this one is an encoder or an encoder-decoder');
    const cache = new KVCache();
    const run = walk(model.forward({ ids: [[...ids]], cache }), control, 'the input', model.spec.numLayers);
    if (!run) return undefined;
    return new Generation(model, cache, ids.length, [...ids], lastRow(run.result).slice(), undefined);
  }

  /**
   * The cache from a finished pass over `ids` (the stepper's): each layer's keys as they were cached —
   * `hook_rot_k` with RoPE, else `hook_k` — and `hook_v`, so the first token needs no second prefill.
   * Undefined when the pass does not show every layer's keys and values (then prefill).
   */
  static fromPass(model: TransformerModel, ids: readonly number[], steps: readonly Step[], logits: Tensor): Generation | undefined {
    if (model.decoder || !model.main.causal) return undefined;
    const byName = new Map(steps.map((s) => [s.name, s.tensor]));
    const cache = new KVCache();
    for (const step of steps) {
      const m = /^(blocks\.\d+\.attn)\.hook_v$/.exec(step.name);
      if (!m) continue;
      const k = byName.get(`${m[1]}.hook_rot_k`) ?? byName.get(`${m[1]}.hook_k`);
      if (!k || k.shape[1] !== ids.length || step.tensor.shape[1] !== ids.length) return undefined;
      cache.append(m[1], k, step.tensor); // (1, T, H_kv, d_head): kept as they are, never written to
    }
    if ([...cache.entries()].length !== model.spec.numLayers) return undefined;
    cache.length = ids.length;
    return new Generation(model, cache, ids.length, [...ids], lastRow(logits).slice(), undefined);
  }

  /** Bytes the cached keys and values hold. */
  get cacheBytes(): number {
    return this.cache.bytes();
  }

  /**
   * Append up to `count` tokens picked by `sampling`; returns the last new position traced, or undefined
   * when cancelled before the first token was appended. A cancelled token leaves the cache as it was.
   * Sampling draws with `seed + position`, so a seed gives the same tokens however they are asked for.
   */
  append(count: number, sampling: Sampling, control: GenerationControl): TracedPosition | undefined {
    const maxLen = this.model.spec.maxLen;
    if (this.ids.length >= maxLen) throw new InspectorError(`the input already has max_len (${maxLen}) tokens: no position is left to generate`);
    let added: TracedPosition | undefined;
    for (let n = 0; n < count && this.ids.length < maxLen; n++) {
      const position = this.ids.length;
      const rand = mulberry32(sampling.kind === 'top_k' ? sampling.seed + position : 0);
      const id = pickToken(this.nextLogits, sampling, rand);
      const prob = probability(this.nextLogits, id);
      const what = count > 1 ? `token ${n + 1} of ${count}` : 'the new token';
      const run = walk(this.model.forward({ ids: [[id]], cache: this.cache }), control, what, this.model.spec.numLayers);
      if (!run) {
        // Some layers already appended this position's keys: keep only the positions before it.
        this.cache = cachePrefix(this.cache, position);
        break;
      }
      checkKeys(run.steps, position);
      this.ids.push(id);
      this.tokens.push({ position, id, prob });
      this.nextLogits = lastRow(run.result).slice();
      added = { position, steps: run.steps, logits: run.result };
    }
    if (added) this.last = added;
    return added;
  }

  /** The steps of generated position `position` (the last one as kept; an earlier one computed again). */
  trace(position: number, control: GenerationControl): TracedPosition | undefined {
    if (!Number.isInteger(position) || position < this.promptLength || position >= this.ids.length) {
      throw new InspectorError(`position ${position} is not a generated one (generated: ${this.promptLength} … ${this.ids.length - 1})`);
    }
    if (this.last?.position === position) return this.last;
    // The keys this position saw: the cache's first `position` entries (a copy; the cache stays whole).
    const cache = cachePrefix(this.cache, position);
    const run = walk(this.model.forward({ ids: [[this.ids[position]]], cache }), control, `position ${position}`, this.model.spec.numLayers);
    return run && { position, steps: run.steps, logits: run.result };
  }
}

/** Run a trace to completion, reporting `layer i of N`; undefined when cancelled between two steps. */
function walk(trace: Trace, control: GenerationControl, what: string, layers: number): { steps: Step[]; result: Tensor } | undefined {
  const steps: Step[] = [];
  for (;;) {
    if (control.cancelled()) return undefined;
    const r = trace.next();
    if (r.done) return { steps, result: r.value };
    steps.push(r.value);
    const layer = layerOf(r.value.name, layers);
    control.progress(`Computing ${what}${layer ? `: ${layer}` : ''}`);
  }
}

/** Every attention row of a new position covers the keys before it and itself (else the cache missed a layer). */
function checkKeys(steps: readonly Step[], position: number): void {
  for (const s of steps) {
    if (s.name.endsWith('.attn.hook_pattern') && s.tensor.shape[3] !== position + 1) {
      throw new Error(`${s.name} of position ${position} covers ${s.tensor.shape[3]} keys, not ${position + 1}: the KV cache lacks a layer`);
    }
  }
}

/** softmax(row)[id], in float64 with the max subtracted. */
function probability(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return Math.exp(row[id] - max) / sum;
}

/** A recorded position as a trace the session's stepper walks (nothing is computed again). */
export function* replay(traced: TracedPosition): Trace {
  for (const step of traced.steps) yield step;
  return traced.logits;
}
