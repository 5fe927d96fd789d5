import type { Tensor } from '../tensor';
import type { TransformerModel, ModelInput } from '../model/transformer';
import { runTrace, type Step } from '../trace/step';
import { InspectorError } from '../errors';
import { readout, residualHooks } from './model-view';
import { checkToken, logitRow, probAndRank, topK, type TokenProb } from './metrics';

/**
 * The logit lens (nostalgebraist 2020): the residual stream after every block, read out as if it were the
 * last one — through the final norm, with that norm's statistics recomputed from this residual (not the
 * last layer's cached scale, the mistake TransformerLens PR #1077 fixed), the head transform and the
 * unembedding. Entry 0 is the embeddings; the last entry is the model's own logits.
 */
export interface LensLayer {
  /** 0 = the embeddings, i = after block i − 1. */
  layer: number;
  /** The hook the residual was read from. */
  hook: string;
  positions: { top: TokenProb[]; target?: { id: number; prob: number; rank: number } }[];
}

export interface LensOptions {
  top?: number;
  target?: number;
  /** Which sequence of the batch (0). */
  batch?: number;
}

/** The lens logits [B, T, V] at every depth, from the steps of a forward pass (one more than blocks). */
export function lensLogits(model: TransformerModel, steps: readonly Step[]): { hook: string; logits: Tensor }[] {
  const byName = new Map(steps.map((s) => [s.name, s.tensor]));
  return residualHooks(model).map((hook) => {
    const resid = byName.get(hook);
    if (!resid) throw new InspectorError(`the forward pass recorded no '${hook}'`);
    return { hook, logits: readout(model, resid) };
  });
}

export function logitLens(model: TransformerModel, input: ModelInput, opts: LensOptions = {}): { layers: LensLayer[]; logits: Tensor } {
  const { steps, result } = runTrace(model.forward(input));
  const k = opts.top ?? 5;
  const b = opts.batch ?? 0;
  const layers = lensLogits(model, steps).map(({ hook, logits }, layer): LensLayer => {
    const [B, T, V] = logits.shape as [number, number, number];
    if (b < 0 || b >= B) throw new InspectorError(`lens: batch ${b} does not exist (batch size ${B})`);
    if (opts.target !== undefined) checkToken(opts.target, V, 'lens target');
    const positions = Array.from({ length: T }, (_, t) => {
      const row = logitRow(logits, b, t);
      const top = topK(row, Math.min(k, V));
      return opts.target === undefined ? { top } : { top, target: probAndRank(row, opts.target) };
    });
    return { layer, hook, positions };
  });
  return { layers, logits: result };
}
