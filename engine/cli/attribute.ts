import { directLogitAttribution } from '../analyses/attribution';
import { heatmapSvg } from '../analyses/svg';
import { readoutSide } from '../analyses/model-view';
import { InspectorError } from '../errors';
import { parseAnalysisArgs, parsePositiveInt, readInput, readPosition, resolveToken, writeSvg } from './analysis-args';

export const ATTRIBUTE_USAGE = `usage: transformer-inspector attribute PATH (--ids 5,77,13 | --text "…") --target TOKEN [--versus TOKEN] [--position P] [--top K] [--json] [--svg FILE]
  Direct logit attribution at position P (the last by default): each attention head's, MLP's and the
  embeddings' contribution to logit[TOKEN] (− logit[VERSUS]), through the final norm with its scale frozen
  at this run. The contributions plus the bias terms sum to the logit.`;

/** `attribute`: direct logit attribution by head, MLP and embedding. */
export function runAttribute(argv: string[], out: (s: string) => void = console.log): number {
  const { values, loaded, label } = parseAnalysisArgs(
    'attribute',
    argv,
    { target: { type: 'string' }, versus: { type: 'string' }, position: { type: 'string' }, top: { type: 'string' } },
    ATTRIBUTE_USAGE,
  );
  const input = readInput(loaded, values, true, ATTRIBUTE_USAGE)!;
  if (values.target === undefined) throw new InspectorError(`attribute needs --target TOKEN\n${ATTRIBUTE_USAGE}`);
  const target = resolveToken(loaded, values.target, '--target');
  const versus = values.versus !== undefined ? resolveToken(loaded, values.versus, '--versus') : undefined;
  const T = (input.decoderIds ?? input.ids)[0].length;
  const position = readPosition(values.position, T, '--position');
  const a = directLogitAttribution(loaded.model, input, { target, versus, position });
  const what = `logit[${JSON.stringify(label(target))}]${versus !== undefined ? ` − logit[${JSON.stringify(label(versus))}]` : ''}`;
  if (values.svg) {
    // Layers × (self-attention heads, then the MLP): each part's direct effect.
    const layers = readoutSide(loaded.model).blocks.length;
    const H = Math.max(0, ...a.components.filter((c) => c.kind === 'head' && c.attention === 'self').map((c) => c.head! + 1));
    const rows = Array.from({ length: layers }, (_, l) => {
      const row: number[] = Array.from({ length: H + 1 }, () => NaN);
      for (const c of a.components) {
        if (c.layer !== l) continue;
        if (c.kind === 'head' && c.attention === 'self') row[c.head!] = c.value;
        else if (c.kind === 'mlp') row[H] = c.value;
      }
      return row;
    });
    const svg = heatmapSvg({
      title: `direct logit attribution of ${what} at position ${a.position} (${a.logit.toFixed(3)})`,
      values: rows,
      cellText: rows.map((r) => r.map((v) => (Number.isFinite(v) ? v.toFixed(2) : ''))),
      rowLabels: rows.map((_, l) => `layer ${l}`),
      colLabels: [...Array.from({ length: H }, (_, h) => `head ${h}`), 'MLP'],
      scale: 'diverging',
    });
    writeSvg(values.svg, svg, values.json ? () => undefined : out);
  }
  if (values.json) {
    out(
      JSON.stringify({
        position: a.position,
        target: { id: target, token: label(target) },
        ...(versus !== undefined ? { versus: { id: versus, token: label(versus) } } : {}),
        logit: a.logit,
        total: a.total,
        norm_scale: a.normScale,
        components: a.components,
        biases: a.biases,
      }),
    );
    return 0;
  }
  out(`direct logit attribution of ${what} at position ${a.position}: ${a.logit.toFixed(4)} (Σ parts + biases = ${a.total.toFixed(4)}; final norm scale frozen at ${a.normScale.toPrecision(5)})`);
  const top = parsePositiveInt(values.top, '--top', 12);
  const sorted = [...a.components].sort((x, y) => Math.abs(y.value) - Math.abs(x.value)).slice(0, top);
  const width = Math.max(...sorted.map((c) => c.name.length), 10);
  for (const c of sorted) out(`  ${c.name.padEnd(width)}  ${c.value >= 0 ? '+' : ''}${c.value.toFixed(4)}`);
  for (const b of a.biases) out(`  ${b.name.padEnd(width)}  ${b.value >= 0 ? '+' : ''}${b.value.toFixed(4)}  (bias)`);
  return 0;
}
