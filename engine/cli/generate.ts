import { parseArgs } from 'node:util';
import { InspectorError } from '../errors';
import { loadModel } from '../model/load';
import { generate, type Sampling } from '../model/generate';
import { kernelDescription, setKernelThreads } from '../kernels';
import { parseIdList, parsePositiveInt } from './args';

export const GENERATE_USAGE = `usage: transformer-inspector generate PATH (--text "…" | --ids 5,77,13) --max-new-tokens N [--threads N]
                                     [--top-k K --temperature T --seed S] [--no-cache] [--json]
  Greedy by default; --top-k samples from the K most likely tokens at --temperature (default 1) with --seed.`;

function parseTemperature(text: string | undefined): number {
  if (text === undefined) return 1;
  const t = Number(text);
  if (!Number.isFinite(t) || t <= 0) throw new InspectorError(`--temperature must be a positive number, got '${text}'`);
  return t;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** `generate`: append tokens to a prompt with the KV cache; prints the text and the ms per token. */
export function runGenerate(argv: string[], out: (s: string) => void = console.log): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      text: { type: 'string' },
      ids: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      threads: { type: 'string' },
      'top-k': { type: 'string' },
      temperature: { type: 'string' },
      seed: { type: 'string' },
      'no-cache': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new InspectorError(`generate takes one PATH\n${GENERATE_USAGE}`);
  if (!values.ids === (values.text === undefined)) throw new InspectorError(`give --text or --ids (one of them)\n${GENERATE_USAGE}`);
  const maxNew = parsePositiveInt(values['max-new-tokens'], '--max-new-tokens', 16);
  const threads = setKernelThreads(values.threads === undefined ? undefined : Math.max(1, parsePositiveInt(values.threads, '--threads', 1)));
  const sampling: Sampling = values['top-k']
    ? { kind: 'top_k', k: Math.max(1, parsePositiveInt(values['top-k'], '--top-k', 1)), temperature: parseTemperature(values.temperature), seed: parsePositiveInt(values.seed, '--seed', 0) }
    : { kind: 'greedy' };
  const t0 = performance.now();
  const { model, tokenizer, configPath } = loadModel(positionals[0]);
  const loadMs = performance.now() - t0;
  let prompt: number[];
  if (values.text !== undefined) {
    if (!tokenizer) throw new InspectorError('--text needs a tokenizer.json beside the config; give --ids', { file: configPath });
    prompt = tokenizer.encode(values.text).ids;
  } else {
    const rows = parseIdList(values.ids!, '--ids');
    if (rows.length !== 1) throw new InspectorError('generate takes one sequence (no batch)');
    prompt = rows[0];
  }
  for (const id of prompt) {
    if (id < 0 || id >= model.spec.vocabSize) throw new InspectorError(`token id ${id} is outside the vocabulary (${model.spec.vocabSize})`);
  }
  let made = 0;
  const g = generate(model, prompt, {
    maxNewTokens: maxNew,
    sampling,
    cache: !values['no-cache'],
    onToken: (_id, _row, ms) => {
      if (!values.json) process.stderr.write(`\rtoken ${++made} of ${maxNew} (${ms.toFixed(0)} ms)`);
    },
  });
  if (!values.json) process.stderr.write('\n');
  const newIds = g.ids.slice(prompt.length);
  const msPerToken = median(g.tokenMs);
  const summary = {
    model: configPath,
    kernel: kernelDescription(),
    threads,
    cache: !values['no-cache'],
    sampling,
    prompt_tokens: prompt.length,
    new_tokens: newIds.length,
    ids: newIds,
    text: tokenizer ? tokenizer.decode(g.ids) : undefined,
    load_ms: Math.round(loadMs),
    prefill_ms: Math.round(g.prefillMs * 10) / 10,
    ms_per_token: Math.round(msPerToken * 10) / 10,
  };
  if (values.json) {
    out(JSON.stringify(summary));
    return 0;
  }
  if (summary.text !== undefined) out(summary.text);
  else out(g.ids.join(','));
  out('');
  out(`${prompt.length} prompt tokens, ${newIds.length} new (${sampling.kind === 'greedy' ? 'greedy' : `top-${sampling.k}, temperature ${sampling.temperature}, seed ${sampling.seed}`}), ${summary.cache ? 'KV cache' : 'no cache: full re-runs'}`);
  out(`load ${summary.load_ms} ms, prefill ${summary.prefill_ms} ms, ${summary.ms_per_token} ms per token (median of ${g.tokenMs.length}), ${summary.kernel}, ${threads} thread${threads === 1 ? '' : 's'}`);
  return 0;
}
