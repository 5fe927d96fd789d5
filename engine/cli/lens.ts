import { logitLens } from '../analyses/lens';
import { heatmapSvg } from '../analyses/svg';
import { parseAnalysisArgs, parsePositiveInt, readInput, resolveToken, shortLabel, writeSvg } from './analysis-args';

export const LENS_USAGE = `usage: transformer-inspector lens PATH (--ids 5,77,13 | --text "…") [--target TOKEN] [--top K] [--json] [--svg FILE]
  The residual stream after every block read out through the final norm (statistics recomputed per
  residual) and the unembedding; the first entry is the embeddings, the last the model's logits.`;

/** `lens`: the logit lens as a layers × positions table, or JSON. */
export function runLens(argv: string[], out: (s: string) => void = console.log): number {
  const { values, loaded, label } = parseAnalysisArgs('lens', argv, { target: { type: 'string' }, top: { type: 'string' } }, LENS_USAGE);
  const input = readInput(loaded, values, true, LENS_USAGE)!;
  const top = parsePositiveInt(values.top, '--top', 5);
  const target = values.target !== undefined ? resolveToken(loaded, values.target, '--target') : undefined;
  const { layers } = logitLens(loaded.model, input, { top, target });
  const ids = input.decoderIds ?? input.ids;
  if (values.svg) {
    const svg = heatmapSvg({
      title: target !== undefined ? `logit lens: probability of ${JSON.stringify(label(target))} (cell: top-1 token)` : 'logit lens: top-1 token and its probability',
      values: layers.map((l) => l.positions.map((p) => (p.target ? p.target.prob : p.top[0].prob))),
      cellText: layers.map((l) => l.positions.map((p) => shortLabel(label(p.top[0].id)))),
      rowLabels: layers.map((l) => (l.layer === 0 ? 'embed' : `after L${l.layer - 1}`)),
      colLabels: ids[0].map((id, t) => `${t} ${shortLabel(label(id), 10)}`),
      scale: 'sequential',
      min: 0,
      max: 1,
    });
    writeSvg(values.svg, svg, values.json ? () => undefined : out);
  }
  if (values.json) {
    const json = {
      layers: layers.map((l) => ({
        layer: l.layer,
        hook: l.hook,
        positions: l.positions.map((p) => ({
          top: p.top.map((t) => ({ id: t.id, token: label(t.id), prob: t.prob })),
          ...(p.target ? { target: { id: p.target.id, token: label(p.target.id), prob: p.target.prob, rank: p.target.rank } } : {}),
        })),
      })),
    };
    out(JSON.stringify(json));
    return 0;
  }
  out(`logit lens: top-1 token (probability)${target !== undefined ? ` | ${JSON.stringify(label(target))}: probability, rank` : ''} at each layer × position`);
  out(`tokens  ${ids[0].map((id) => JSON.stringify(label(id))).join(' ')}`);
  for (const l of layers) {
    const cells = l.positions.map((p) => {
      const t = p.top[0];
      const cell = `${JSON.stringify(label(t.id))} ${(t.prob * 100).toFixed(0)}%`;
      return p.target ? `${cell} | ${(p.target.prob * 100).toFixed(1)}% #${p.target.rank}` : cell;
    });
    out(`${(l.layer === 0 ? 'embed' : `L${l.layer - 1}`).padEnd(6)}  ${cells.join('  ')}`);
  }
  return 0;
}
