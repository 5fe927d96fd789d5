import { ablate, parseHeadList } from '../analyses/ablation';
import { InspectorError } from '../errors';
import { parseAnalysisArgs, parsePositiveInt, readInput } from './analysis-args';

export const ABLATE_USAGE = `usage: transformer-inspector ablate PATH (--ids 5,77,13 | --text "…") [--heads 2.1,3.0] [--mlp 1,2] [--layers 0] [--mean] [--loss-positions A:B] [--top K] [--json]
  Zero (or, with --mean, mean-) ablate attention heads (LAYER.HEAD), MLPs or whole layers and rerun from
  the first changed layer: Δ logits, Δ next-token loss (of the predictions made at positions A … B−1 with
  --loss-positions, e.g. the repeated half of a sequence) and the top-k before and after.`;

function layerList(text: string | undefined, what: string): number[] {
  if (text === undefined) return [];
  return text.split(',').map((s) => {
    if (!/^\s*\d+\s*$/.test(s)) throw new InspectorError(`${what}: '${s}' is not a layer index`);
    return Number(s);
  });
}

/** `ablate`: remove heads / MLPs / layers and report what changes. */
export function runAblate(argv: string[], out: (s: string) => void = console.log): number {
  const { values, loaded, label } = parseAnalysisArgs(
    'ablate',
    argv,
    { heads: { type: 'string' }, mlp: { type: 'string' }, layers: { type: 'string' }, mean: { type: 'boolean' }, top: { type: 'string' }, 'loss-positions': { type: 'string' } },
    ABLATE_USAGE,
  );
  const input = readInput(loaded, values, true, ABLATE_USAGE)!;
  const heads = values.heads !== undefined ? parseHeadList(values.heads) : [];
  const mlps = layerList(values.mlp, '--mlp');
  const layers = layerList(values.layers, '--layers');
  if (!heads.length && !mlps.length && !layers.length) throw new InspectorError(`name something to ablate: --heads, --mlp or --layers\n${ABLATE_USAGE}`);
  const top = parsePositiveInt(values.top, '--top', 5);
  const mode = values.mean ? 'mean' : 'zero';
  let lossPositions: [number, number] | undefined;
  if (values['loss-positions'] !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(values['loss-positions']);
    if (!m || Number(m[1]) >= Number(m[2])) throw new InspectorError(`--loss-positions must be A:B with A < B (positions whose next-token predictions count), not '${values['loss-positions']}'`);
    lossPositions = [Number(m[1]), Number(m[2])];
  }
  const r = ablate(loaded.model, input, { heads, mlps, layers, mode }, { top, lossPositions });
  const tok = (x: { id: number; prob: number }) => ({ id: x.id, token: label(x.id), prob: x.prob });
  if (values.json) {
    out(
      JSON.stringify({
        mode,
        first_layer: r.firstLayer,
        replaced: r.replaced,
        max_abs_delta_logit: r.maxAbsDelta,
        mean_abs_delta_logit: r.meanAbsDelta,
        ...(r.loss ? { loss: r.loss } : {}),
        positions: r.top.map((p) => ({ position: p.position, before: p.before.map(tok), after: p.after.map(tok) })),
      }),
    );
    return 0;
  }
  out(`${mode}-ablated ${r.replaced.join(', ')}; rerun from layer ${r.firstLayer}`);
  out(`Δ logits  max ${r.maxAbsDelta.toFixed(4)}, mean ${r.meanAbsDelta.toFixed(4)}`);
  if (r.loss) out(`loss${lossPositions ? ` (predictions at ${lossPositions[0]} … ${lossPositions[1] - 1})` : ''}  ${r.loss.before.toFixed(4)} → ${r.loss.after.toFixed(4)} nats (${r.loss.delta >= 0 ? '+' : ''}${r.loss.delta.toFixed(4)})`);
  const fmt = (xs: { id: number; prob: number }[]) => xs.map((x) => `${JSON.stringify(label(x.id))} ${(x.prob * 100).toFixed(1)}%`).join('  ');
  const T = r.top.length;
  for (const p of r.top) {
    if (p.position !== T - 1 && p.before[0].id === p.after[0].id) continue;
    out(`pos ${String(p.position).padStart(3)}  before ${fmt(p.before)}`);
    out(`         after  ${fmt(p.after)}`);
  }
  return 0;
}
