import { InspectorError } from '../errors';
import type { LoadedModel } from '../model/load';
import type { ModelInput } from '../model/transformer';
import { runTrace } from '../trace/step';
import { logitLens } from './lens';
import { directLogitAttribution } from './attribution';
import { detectHeads, layerPatterns } from './heads';
import { ablate } from './ablation';
import { activationPatching } from './patching';
import { attentionRollout, nextTokenAttention } from './attention-flow';
import { downsample } from './tiles';

export type { AnalysisRequest, AnalysisView, AnalysisReply } from '../../protocol/analyses';
import type { AnalysisRequest, AnalysisReply, AnalysisView } from '../../protocol/analyses';

/** Largest side of a tile sent to a view. */
export const MAX_TILE_CELLS = 512;

export function analysisView(loaded: LoadedModel, input: ModelInput, req: AnalysisRequest): { reply: AnalysisReply; transfer: ArrayBuffer[] } {
  const { model, tokenizer } = loaded;
  const ids = new Set<number>((input.decoderIds ?? input.ids)[0]);
  const done = (view: AnalysisView, transfer: ArrayBuffer[] = []) => ({
    reply: { kind: 'analysis' as const, view, labels: [...ids].sort((a, b) => a - b).map((id): [number, string] => [id, tokenizer ? tokenizer.label(id) : String(id)]) },
    transfer,
  });
  switch (req.analysis) {
    case 'lens': {
      const k = Math.max(1, Math.min(req.top ?? 5, 20));
      const { layers } = logitLens(model, input, { top: k, target: req.target });
      const T = layers[0].positions.length;
      const topIds = new Int32Array(layers.length * T * k);
      const topProbs = new Float32Array(layers.length * T * k);
      const probs = new Float32Array(layers.length * T);
      const ranks = new Int32Array(layers.length * T);
      layers.forEach((l, d) =>
        l.positions.forEach((p, t) => {
          p.top.forEach((x, i) => {
            topIds[(d * T + t) * k + i] = x.id;
            topProbs[(d * T + t) * k + i] = x.prob;
            ids.add(x.id);
          });
          if (p.target) {
            probs[d * T + t] = p.target.prob;
            ranks[d * T + t] = p.target.rank;
          }
        }),
      );
      if (req.target !== undefined) ids.add(req.target);
      const target = req.target !== undefined ? { id: req.target, probs, ranks } : undefined;
      return done({ analysis: 'lens', hooks: layers.map((l) => l.hook), positions: T, k, topIds, topProbs, target }, [topIds.buffer, topProbs.buffer, ...(target ? [probs.buffer, ranks.buffer] : [])]);
    }
    case 'attribution': {
      const a = directLogitAttribution(model, input, req);
      ids.add(a.target);
      if (a.versus !== undefined) ids.add(a.versus);
      return done({ analysis: 'attribution', position: a.position, target: a.target, versus: a.versus, logit: a.logit, total: a.total, normScale: a.normScale, components: a.components, biases: a.biases });
    }
    case 'heads': {
      const specials = tokenizer ? tokenizer.encode('').ids : [];
      const d = detectHeads(model, { input, half: req.half, seed: req.seed, prefix: specials, exclude: specials });
      d.repeated.forEach((id) => ids.add(id));
      return done({ analysis: 'heads', previous_token: d.previous_token, duplicate_token: d.duplicate_token, induction: d.induction, repeated: d.repeated });
    }
    case 'ablation': {
      const r = ablate(model, input, req, { top: req.top });
      for (const p of r.top) for (const x of [...p.before, ...p.after]) ids.add(x.id);
      return done({ analysis: 'ablation', firstLayer: r.firstLayer, replaced: r.replaced, maxAbsDelta: r.maxAbsDelta, meanAbsDelta: r.meanAbsDelta, loss: r.loss, top: r.top });
    }
    case 'patching': {
      if (model.decoder) throw new InspectorError('patching from the inspector runs single-stack models');
      const r = activationPatching(model, { ids: [input.ids[0]] }, { ids: [req.corrupted] }, req);
      req.corrupted.forEach((id) => ids.add(id));
      [req.target, req.versus].forEach((id) => ids.add(id));
      const cols = r.values[0]?.length ?? 0;
      const values = Float32Array.from(r.values.flat());
      return done({ analysis: 'patching', what: r.what, hooks: r.hooks, rows: r.values.length, cols, values, clean: r.clean, corrupted: r.corrupted }, [values.buffer]);
    }
    case 'rollout': {
      const patterns = layerPatterns(model, runTrace(model.forward(input)).steps);
      const T = patterns[0]?.T ?? 0;
      const cells = Math.max(1, Math.min(req.cells ?? MAX_TILE_CELLS, MAX_TILE_CELLS));
      const window = req.window ?? { row0: 0, row1: T, col0: 0, col1: T };
      const tiles = attentionRollout(patterns).map((m) => {
        const t = downsample(Float32Array.from(m), T, T, window, cells, cells);
        return { rows: t.rows, cols: t.cols, rowStep: t.rowStep, colStep: t.colStep, data: t.data };
      });
      const H = patterns[0]?.heads ?? 0;
      const nextToken = Float32Array.from(nextTokenAttention(patterns).flat(2));
      return done({ analysis: 'rollout', layers: patterns.length, positions: T, tiles, window, nextToken, heads: H }, [...tiles.map((t) => t.data.buffer as ArrayBuffer), nextToken.buffer as ArrayBuffer]);
    }
  }
}
