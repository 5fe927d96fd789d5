import { compareRuns } from '../analyses/compare';
import { InspectorError } from '../errors';
import { loadModel } from '../model/load';
import type { ModelInput } from '../model/transformer';
import { parseIdList } from './args';
import { parseAnalysisArgs, parsePositiveInt, readInput, tokenize } from './analysis-args';

export const COMPARE_USAGE = `usage: transformer-inspector compare PATH (--ids 5,77,13 | --text "…") [--with PATH2] [--with-ids 5,9,13 | --with-text "…"]
                                    [--hook NAME] [--top K] [--json]
  Two runs side by side at every hook: two inputs through PATH's model, or the same input through PATH and
  PATH2 (two checkpoints of one architecture, or a model and its quantized copy). Per hook: max and mean
  |b − a| and ‖b − a‖ / ‖a‖; at the last position, the tokens whose probability moved most.`;

/** `compare`: diff two runs hook by hook. */
export function runCompare(argv: string[], out: (s: string) => void = console.log): number {
  const { values, loaded, label } = parseAnalysisArgs(
    'compare',
    argv,
    { with: { type: 'string' }, 'with-ids': { type: 'string' }, 'with-text': { type: 'string' }, hook: { type: 'string', multiple: true }, top: { type: 'string' } },
    COMPARE_USAGE,
  );
  const input = readInput(loaded, values, true, COMPARE_USAGE)!;
  const other = values.with !== undefined ? loadModel(values.with) : loaded;
  if (values['with-ids'] !== undefined && values['with-text'] !== undefined) throw new InspectorError('give --with-ids or --with-text, not both');
  const otherInput: ModelInput =
    values['with-ids'] !== undefined
      ? { ...input, ids: parseIdList(values['with-ids'], '--with-ids') }
      : values['with-text'] !== undefined
        ? { ...input, ids: tokenize(other, values['with-text'], '--with-text') }
        : input;
  if (other === loaded && otherInput === input) throw new InspectorError(`compare needs a second model (--with) or a second input (--with-ids / --with-text)\n${COMPARE_USAGE}`);
  const top = parsePositiveInt(values.top, '--top', 5);
  const r = compareRuns({ model: loaded.model, input }, { model: other.model, input: otherInput }, { hooks: values.hook, top });
  const last = r.topChanges.at(-1) ?? [];
  if (values.json) {
    out(
      JSON.stringify({
        hooks: r.hooks.map((h) => ({ hook: h.hook, shape: h.shape, max_abs: h.maxAbs, mean_abs: h.meanAbs, relative: h.relative })),
        unmatched: r.unmatched,
        top_changes: last.map((c) => ({ ...c, token: label(c.id) })),
      }),
    );
    return 0;
  }
  const width = Math.max(10, ...r.hooks.map((h) => h.hook.length));
  out(`${'hook'.padEnd(width)}  ${'max |Δ|'.padStart(11)}  ${'mean |Δ|'.padStart(11)}  ${'‖Δ‖/‖a‖'.padStart(11)}`);
  for (const h of r.hooks) out(`${h.hook.padEnd(width)}  ${h.maxAbs.toExponential(3).padStart(11)}  ${h.meanAbs.toExponential(3).padStart(11)}  ${h.relative.toExponential(3).padStart(11)}`);
  if (r.unmatched.length) out(`not compared (one side only, or another shape): ${r.unmatched.map((u) => u.hook).join(', ')}`);
  if (last.length) {
    out('');
    out('largest probability changes at the last position');
    for (const c of last) out(`  ${JSON.stringify(label(c.id)).padEnd(14)} ${(c.before * 100).toFixed(2)}% → ${(c.after * 100).toFixed(2)}%`);
  }
  return 0;
}
