import { detectHeads, topHead, type Detector } from '../analyses/heads';
import { heatmapSvg, stackSvgs } from '../analyses/svg';
import { parseAnalysisArgs, parsePositiveInt, readInput, writeSvg } from './analysis-args';

export const HEADS_USAGE = `usage: transformer-inspector heads PATH [--ids 5,77,13 | --text "…"] [--repeat-length N] [--repeat-seed S] [--json] [--svg FILE]
  Previous-token and duplicate-token scores of every head on the input (or on the random sequence when
  none is given), and induction scores on a sequence of N random tokens repeated twice (after the
  tokenizer's leading special tokens): layers × heads tables.`;

/** `heads`: the head detectors as layers × heads tables. */
export function runHeads(argv: string[], out: (s: string) => void = console.log): number {
  const { values, loaded } = parseAnalysisArgs('heads', argv, { 'repeat-length': { type: 'string' }, 'repeat-seed': { type: 'string' } }, HEADS_USAGE);
  const input = readInput(loaded, values, false, HEADS_USAGE);
  // The specials the tokenizer puts around every input (`<s>`) start the random sequence and are never drawn.
  const specials = loaded.tokenizer ? loaded.tokenizer.encode('').ids : [];
  const half = values['repeat-length'] !== undefined ? parsePositiveInt(values['repeat-length'], '--repeat-length', 25) : undefined;
  const seed = parsePositiveInt(values['repeat-seed'], '--repeat-seed', 0);
  const d = detectHeads(loaded.model, { input, half, seed, prefix: specials, exclude: specials });
  const names: Record<Detector, string> = { previous_token: 'previous token', duplicate_token: 'duplicate token', induction: 'induction (repeated random tokens)' };
  const keys = ['previous_token', 'duplicate_token', 'induction'] as const;
  if (values.svg) {
    const panel = (key: Detector) =>
      heatmapSvg({
        title: `${names[key]} score`,
        values: d[key],
        cellText: d[key].map((row) => row.map((s) => s.toFixed(2))),
        rowLabels: d[key].map((_, l) => `layer ${l}`),
        colLabels: d[key][0].map((_, h) => `head ${h}`),
        scale: 'sequential',
        min: 0,
        max: 1,
      });
    writeSvg(values.svg, stackSvgs(keys.map(panel)), values.json ? () => undefined : out);
  }
  if (values.json) {
    out(JSON.stringify({ previous_token: d.previous_token, duplicate_token: d.duplicate_token, induction: d.induction }));
    return 0;
  }
  for (const key of keys) {
    const best = topHead(d[key]);
    out(`${names[key]}${key !== 'induction' && !input ? ' (on the random sequence)' : ''}: top head layer ${best.layer}, head ${best.head} (${best.score.toFixed(3)})`);
    d[key].forEach((row, layer) => out(`  L${String(layer).padEnd(3)} ${row.map((s) => s.toFixed(3)).join('  ')}`));
  }
  return 0;
}
