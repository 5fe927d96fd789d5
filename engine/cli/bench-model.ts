import { parseArgs } from 'node:util';
import { InspectorError } from '../errors';
import { loadModel } from '../model/load';
import { runTrace } from '../trace/step';
import { parseIdList, parsePositiveInt } from './args';
import { kernelDescription, setKernelThreads } from '../kernels';
import { KVCache } from '../nn/kvcache';
import { runTraceWithProgress, stderrProgress } from './progress';

export const BENCH_MODEL_USAGE = `usage: transformer-inspector bench --model PATH (--ids 5,77,13 | --text "…") [--threads N] [--runs R] [--json]`;

export interface ModelBenchResult {
  model: string;
  tokens: number;
  threads: number;
  kernel: string;
  load_ms: number;
  forward_ms_median: number;
  forward_ms_all: number[];
  /** CPU time of this process (every thread) per forward, median: steadier than wall time on a shared machine. */
  forward_cpu_ms_median: number;
  /** One more token's cost with the KV cache after the given ids (median of `runs` steps). */
  decode_ms_per_token: number | null;
  decode_mode: string;
  peak_rss_bytes: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident set of this process so far (Linux reports maxRSS in KiB). */
function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * `bench --model`: load a model once, warm up with one forward, then time `runs` forwards of the given
 * ids (every hook recorded, all logits), as the inspector runs them.
 */
export function runModelBench(argv: string[], out: (s: string) => void = console.log): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      ids: { type: 'string' },
      text: { type: 'string' },
      threads: { type: 'string' },
      runs: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!values.model) throw new InspectorError(`bench --model needs PATH\n${BENCH_MODEL_USAGE}`);
  if (!values.ids === (values.text === undefined)) throw new InspectorError(`give --ids or --text (one of them)\n${BENCH_MODEL_USAGE}`);
  const runs = Math.max(1, parsePositiveInt(values.runs, '--runs', 5));
  const threads = setKernelThreads(values.threads === undefined ? undefined : parsePositiveInt(values.threads, '--threads', 1));

  const t0 = performance.now();
  const loaded = loadModel(values.model);
  const loadMs = performance.now() - t0;
  let ids: number[][];
  if (values.text !== undefined) {
    if (!loaded.tokenizer) throw new InspectorError('--text needs a tokenizer.json beside the config; give --ids', { file: loaded.configPath });
    ids = [loaded.tokenizer.encode(values.text).ids];
  } else ids = parseIdList(values.ids!, '--ids');
  const { model } = loaded;
  const progress = stderrProgress();
  const cpuTimes: number[] = [];
  const forwardMs = (input: number[][]): number => {
    const c = process.cpuUsage();
    const t = performance.now();
    runTraceWithProgress(model.forward({ ids: input }), loaded.spec.numLayers, progress);
    const wall = performance.now() - t;
    const cpu = process.cpuUsage(c);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    return wall;
  };
  forwardMs(ids); // warm-up: packs weight panels, compiles the hot paths
  cpuTimes.length = 0;
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push(forwardMs(ids));
  const decode: number[] = [];
  if (!model.decoder && model.main.causal && ids.length === 1) {
    const cache = new KVCache();
    runTrace(model.forward({ ids, cache }));
    const last = ids[0][ids[0].length - 1];
    for (let r = 0; r < runs && cache.length < model.spec.maxLen; r++) {
      const t = performance.now();
      runTrace(model.forward({ ids: [[last]], cache }));
      decode.push(performance.now() - t);
    }
  }
  const result: ModelBenchResult = {
    model: loaded.configPath,
    tokens: ids[0].length,
    threads,
    kernel: kernelDescription(),
    load_ms: Math.round(loadMs * 10) / 10,
    forward_ms_median: Math.round(median(times) * 10) / 10,
    forward_ms_all: times.map((t) => Math.round(t * 10) / 10),
    forward_cpu_ms_median: Math.round(median(cpuTimes) * 10) / 10,
    decode_ms_per_token: decode.length ? Math.round(median(decode) * 10) / 10 : null,
    decode_mode: decode.length ? `KV cache, one token after ${ids[0].length} positions` : 'not a decoder-only model (or a batch): no decode step',
    peak_rss_bytes: peakRssBytes(),
  };
  if (values.json) {
    out(JSON.stringify(result));
    return 0;
  }
  out(`model       ${result.model} (${result.tokens} tokens, batch ${ids.length})`);
  out(`kernel      ${result.kernel}, ${threads} thread${threads === 1 ? '' : 's'}`);
  out(`load        ${result.load_ms} ms`);
  out(`forward     median ${result.forward_ms_median} ms over ${runs} runs (${result.forward_ms_all.join(', ')}); CPU ${result.forward_cpu_ms_median} ms`);
  out(`decode      ${result.decode_ms_per_token} ms per token (${result.decode_mode})`);
  out(`peak RSS    ${(result.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB`);
  return 0;
}
