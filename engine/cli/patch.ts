import { activationPatching, type PatchWhat } from '../analyses/patching';
import { InspectorError } from '../errors';
import type { ModelInput } from '../model/transformer';
import { parseIdList } from './args';
import { heatmapSvg } from '../analyses/svg';
import { parseAnalysisArgs, resolveToken, shortLabel, tokenize, writeSvg } from './analysis-args';

export const PATCH_USAGE = `usage: transformer-inspector patch PATH (--clean "…" | --clean-ids 5,7) (--corrupted "…" | --corrupted-ids 5,9) --target TOKEN --versus TOKEN
                                  [--what resid|heads|mlp] [--json] [--svg FILE]
  Activation patching: the corrupted run with one activation from the clean run (the residual entering a
  layer at a position, a head's output, an MLP's output at a position); the metric is the logit difference
  target − versus at the last position, normalised to 0 (corrupted) … 1 (clean).`;

const WHAT: readonly PatchWhat[] = ['resid', 'heads', 'mlp'];

/** `patch`: an activation-patching grid (layers × positions, or layers × heads). */
export function runPatch(argv: string[], out: (s: string) => void = console.log): number {
  const { values, loaded, label } = parseAnalysisArgs(
    'patch',
    argv,
    {
      clean: { type: 'string' },
      corrupted: { type: 'string' },
      'clean-ids': { type: 'string' },
      'corrupted-ids': { type: 'string' },
      target: { type: 'string' },
      versus: { type: 'string' },
      what: { type: 'string' },
    },
    PATCH_USAGE,
  );
  const side = (textKey: 'clean' | 'corrupted'): ModelInput => {
    const text = values[textKey];
    const ids = values[`${textKey}-ids`];
    if ((text === undefined) === (ids === undefined)) throw new InspectorError(`give --${textKey} or --${textKey}-ids (one of them)\n${PATCH_USAGE}`);
    if (loaded.model.decoder) throw new InspectorError('the patch command runs single-stack models (give the engine API both sides for an encoder-decoder model)');
    return { ids: text !== undefined ? tokenize(loaded, text, `--${textKey}`) : parseIdList(ids!, `--${textKey}-ids`) };
  };
  const clean = side('clean');
  const corrupted = side('corrupted');
  if (values.target === undefined || values.versus === undefined) throw new InspectorError(`patch needs --target and --versus\n${PATCH_USAGE}`);
  const target = resolveToken(loaded, values.target, '--target');
  const versus = resolveToken(loaded, values.versus, '--versus');
  const what = (values.what ?? 'resid') as PatchWhat;
  if (!WHAT.includes(what)) throw new InspectorError(`--what must be one of ${WHAT.join(', ')}, not '${values.what}'`);
  const r = activationPatching(loaded.model, clean, corrupted, { target, versus, what });
  if (values.svg) {
    const svg = heatmapSvg({
      title: `activation patching (${what}): restored logit difference ${JSON.stringify(label(target))} − ${JSON.stringify(label(versus))}, 0 = corrupted, 1 = clean`,
      values: r.values,
      cellText: r.values.map((row) => row.map((v) => v.toFixed(2))),
      rowLabels: r.hooks,
      colLabels: what === 'heads' ? r.values[0].map((_, h) => `head ${h}`) : clean.ids[0].map((id, t) => `${t} ${shortLabel(label(id), 10)}`),
      scale: 'diverging',
      min: -1,
      max: 1,
    });
    writeSvg(values.svg, svg, values.json ? () => undefined : out);
  }
  if (values.json) {
    out(
      JSON.stringify({
        what,
        target: { id: target, token: label(target) },
        versus: { id: versus, token: label(versus) },
        clean_logit_diff: r.clean,
        corrupted_logit_diff: r.corrupted,
        hooks: r.hooks,
        values: r.values,
        logit_diffs: r.logitDiffs,
      }),
    );
    return 0;
  }
  out(`activation patching (${what}): logit[${JSON.stringify(label(target))}] − logit[${JSON.stringify(label(versus))}] clean ${r.clean.toFixed(4)}, corrupted ${r.corrupted.toFixed(4)}; 0 = corrupted, 1 = clean`);
  if (what !== 'heads') out(`        ${clean.ids[0].map((id) => JSON.stringify(label(id)).padStart(7)).join(' ')}`);
  r.values.forEach((row, layer) => out(`L${String(layer).padEnd(5)} ${row.map((v) => v.toFixed(3).padStart(7)).join(' ')}`));
  return 0;
}
