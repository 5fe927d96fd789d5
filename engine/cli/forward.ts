import { parseArgs } from 'node:util';
import { InspectorError } from '../errors';
import { loadModel } from '../model/load';
import * as fs from 'node:fs';
import { loadJsonFile } from '../config/json';
import { writeTrace } from '../tracefile/writer';
import type { TraceInput } from '../tracefile/manifest';
import { shapeToString, type Tensor } from '../tensor';
import { parseIdList, parseMask, parsePositiveInt } from './args';
import { step, UsageError } from './errors';
import { checkBudget } from '../worker/budget';
import { budgetFromMb } from '../model/memory-budget';
import { formatBytes, parseSize } from '../model/streaming';
import * as path from 'node:path';
import { setKernelThreads } from '../kernels';
import { runTraceWithProgress, stderrProgress } from './progress';
import { boundedForward } from '../trace/store';

export const FORWARD_USAGE = `usage: transformer-inspector forward PATH (--ids 5,77,13 | --text "…") [--decoder-ids 1,2 | --decoder-text "…"] [--token-type-ids 0,0,1]
                                    [--mask 1,1,0] [--seed N] [--top K] [--dump OUT.trace.safetensors] [--seeded] [--threads N]
                                    [--memory-budget 150MB] [--trace-budget MB]
  PATH is a *.transformer.json / config.json file or a folder holding one.
  Separate the sequences of a batch with ';' (e.g. --ids "5,7,9;5,7,0"). Ids are non-negative integers,
  a mask holds 1 (attend) or 0 (masked), a seed is below 2^32.
  --memory-budget: weights larger than this are streamed from disk one layer at a time (default: held whole when they fit beside the trace budget).
  --trace-budget caps the megabytes of the recorded trace (default or 0: automatic, a quarter of the memory available, 256 MB to 16 GB): every layer's input residual is kept, a layer's
    other steps while they fit (recomputed from it when read); an input whose kept steps and one layer do not fit is refused with the numbers.
  --dump writes every hook and the logits as a trace (docs/trace-format.md) that the inspector opens.`;

/** `forward`: run a forward pass, print shapes and the top predictions, optionally dump every step. */
export function runForward(argv: string[], out: (s: string) => void = console.log): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ids: { type: 'string' },
      text: { type: 'string' },
      'decoder-text': { type: 'string' },
      'decoder-ids': { type: 'string' },
      'token-type-ids': { type: 'string' },
      mask: { type: 'string' },
      seed: { type: 'string' },
      top: { type: 'string' },
      dump: { type: 'string' },
      seeded: { type: 'boolean' },
      'memory-budget': { type: 'string' },
      'trace-budget': { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`forward takes one PATH (got ${positionals.length})`);
  if (values.ids === undefined && values.text === undefined) throw new UsageError('forward needs --ids or --text');
  if (values.ids !== undefined && values.text !== undefined) throw new UsageError('give --ids or --text, not both');
  if (values['decoder-ids'] !== undefined && values['decoder-text'] !== undefined) throw new UsageError('give --decoder-ids or --decoder-text, not both');
  // Seeds are 32-bit (the generator's state): a bigger one would silently wrap.
  const seed = values.seed !== undefined ? parsePositiveInt(values.seed, '--seed', 0, 2 ** 32 - 1) : undefined;
  const budget = budgetFromMb(parsePositiveInt(values['trace-budget'], '--trace-budget', 0), 1);
  // Parse every argument before the (slow) model is built, and check the dump can be written.
  const givenIds = values.ids !== undefined ? parseIdList(values.ids, '--ids') : undefined;
  const givenDecoderIds = values['decoder-ids'] !== undefined ? parseIdList(values['decoder-ids'], '--decoder-ids') : undefined;
  const tokenTypeIds = values['token-type-ids'] !== undefined ? parseIdList(values['token-type-ids'], '--token-type-ids') : undefined;
  const attentionMask = values.mask !== undefined ? parseMask(values.mask, '--mask') : undefined;
  const top = parsePositiveInt(values.top, '--top', 5);
  if (values.threads !== undefined) setKernelThreads(Math.max(1, parsePositiveInt(values.threads, '--threads', 1)));
  if (values.dump !== undefined) checkWritable(values.dump);
  const memoryBudget = values['memory-budget'] !== undefined ? parseSize(values['memory-budget']) : undefined;
  step('reading the model', positionals[0]);
  const loadProgress = stderrProgress(); // `Reading the weights: layer i of N` on a terminal
  const loaded = loadModel(positionals[0], { seed, weights: values.seeded ? 'seeded' : 'auto', ...(memoryBudget !== undefined ? { memoryBudget } : {}), activationBudget: budget, progress: loadProgress });
  loadProgress('');
  if (loaded.spec.architecture !== 'encoder-decoder' && (givenDecoderIds || values['decoder-text'] !== undefined)) {
    throw new UsageError(`--decoder-ids and --decoder-text apply only to encoder-decoder models; this one is ${loaded.spec.architecture === 'decoder' ? 'decoder-only' : 'an encoder'}`);
  }
  step('tokenizing', loaded.tokenizer?.file);
  const tokenize = (text: string, flag: string): number[][] => {
    if (!loaded.tokenizer) throw new InspectorError(`${flag} needs a tokenizer.json beside the config; give ids instead`, { file: loaded.configPath });
    const { ids } = loaded.tokenizer.encode(text);
    if (ids.length === 0) throw new InspectorError(`${flag}: the text tokenizes to no tokens`);
    return [ids];
  };
  const ids = values.text !== undefined ? tokenize(values.text, '--text') : (givenIds as number[][]);
  const decoderIds = values['decoder-text'] !== undefined ? tokenize(values['decoder-text'], '--decoder-text') : givenDecoderIds;
  const { model, spec, tokenizer } = loaded;
  checkBudget(spec, { ids: ids[0], ...(decoderIds ? { decoderIds: decoderIds[0] } : {}) }, budget / ids.length);
  step('running the forward pass', loaded.configPath);
  const label = (id: number) => (tokenizer ? JSON.stringify(tokenizer.label(id)) : String(id));
  const streaming = loaded.streaming;
  if (streaming) {
    const bytes = streaming.weightBytes();
    const disk = streaming.fileBytes();
    // Each pass reads every layer once: at about 1 GB/s from an SSD, plus about 3 GFLOP/s of compute (docs/performance.md).
    const seconds = disk / 1e9 + (2 * bytes) / 4 / 3e9 * ids.length * ids[0].length;
    out(`streaming ${formatBytes(bytes)} of fp32 weights exceed the ${formatBytes(streaming.budgetBytes)} budget: running one layer at a time, reading ${formatBytes(disk)} per pass (expect about ${Math.ceil(seconds)} s)`);
  }
  const t0 = performance.now();
  const layers = spec.numLayers + (spec.architecture === 'encoder-decoder' ? spec.numDecoderLayers : 0);
  // Within the trace budget: every layer's input residual is kept, the other steps of a layer while they fit (recomputed for --dump).
  const { trace, store } = boundedForward(model, { ids, decoderIds, tokenTypeIds, attentionMask }, budget);
  const { steps, result: logits } = runTraceWithProgress(trace, layers, stderrProgress());
  const ms = performance.now() - t0;

  out(`config    ${loaded.configPath}`);
  out(`model     ${spec.family} ${spec.architecture}: ${spec.numLayers}${spec.architecture === 'encoder-decoder' ? `+${spec.numDecoderLayers}` : ''} layers, d_model ${spec.dModel}, ${spec.numHeads} heads, d_ff ${spec.dFF}, vocab ${spec.vocabSize}${spec.architecture === 'encoder-decoder' && spec.tgtVocabSize !== spec.vocabSize ? ` (decoder ${spec.tgtVocabSize})` : ''}`);
  out(`weights   ${model.weightsDescription}${model.seeded ? ' — no weights file beside the config' : ''}`);
  out(`params    ${model.parameterCount().toLocaleString('en-US')}`);
  if (model.unusedWeights.length) out(`unused    ${model.unusedWeights.length} tensors in the file: ${model.unusedWeights.slice(0, 8).join(', ')}${model.unusedWeights.length > 8 ? ', …' : ''}`);
  if (model.computedBuffers.length) out(`computed  ${model.computedBuffers.length} tensors the file leaves out: ${model.computedBuffers.slice(0, 8).join(', ')}${model.computedBuffers.length > 8 ? ', …' : ''}`);
  if (tokenizer) out(`tokens    ${ids[0].map(label).join(' ')}`);
  out(`forward   ${steps.length} steps in ${ms.toFixed(1)} ms`);
  if (streaming) out(`streamed  ${streaming.reads} layer reads, at most ${formatBytes(streaming.peakBytes)} of weights held at once`);
  if (store.residentLayers.length < layers) out(`trace     ${formatBytes(store.heldBytes)} held within the ${formatBytes(budget)} trace budget: every layer's input residual and ${store.residentLayers.length} of ${layers} layers (the others are recomputed when read)`);
  out('');
  out('steps');
  const width = Math.max(...steps.map((s) => s.name.length));
  for (const s of steps) out(`  ${s.name.padEnd(width)}  ${shapeToString(s.tensor.shape).padEnd(18)} ${s.dims.join(' × ')}`);
  out('');
  out(`top ${top} predictions per position (batch 0)`);
  for (const line of topPredictions(logits, top, label)) out(`  ${line}`);

  if (values.dump !== undefined) {
    step('writing the dump', values.dump);
    const tensors = new Map<string, Tensor>();
    for (const s of steps) tensors.set(s.name, s.tensor);
    tensors.set('logits', logits);
    try {
      const config = loadJsonFile(loaded.configPath, 'config') as Record<string, unknown>;
      const labels = (rows: number[][]) => rows.map((r) => r.map((id) => tokenizer!.label(id)));
      const input: TraceInput = { ids, ...(tokenizer ? { tokens: labels(ids) } : {}) };
      if (decoderIds) Object.assign(input, { decoder_ids: decoderIds }, tokenizer ? { decoder_tokens: labels(decoderIds) } : {});
      writeTrace(values.dump, {
        writer: { tool: 'transformer-inspector forward', library: 'transformer-inspector engine (fp32)' },
        configFormat: loaded.configPath.endsWith('.transformer.json') ? 'native' : 'hf',
        config,
        input,
        tensors,
      });
    } catch (e) {
      if (e instanceof InspectorError) throw e;
      throw new InspectorError(`cannot write --dump: ${(e as Error).message}`, { file: values.dump });
    }
    out('');
    out(`wrote ${tensors.size} tensors to ${values.dump}`);
  }
  return 0;
}

/** Refuse, before anything runs, a --dump path whose folder does not exist or that is a folder. */
function checkWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new InspectorError(`--dump: the folder ${dir} does not exist`, { file });
  }
  if (!st.isDirectory()) throw new InspectorError(`--dump: ${dir} is not a folder`, { file });
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new InspectorError('--dump: this is a folder; name a .safetensors file', { file });
}

/** For batch element 0: each position's top-k ids with softmax probabilities. */
export function topPredictions(logits: Tensor, k: number, label: (id: number) => string = String): string[] {
  const [, T, V] = logits.shape as [number, number, number];
  const lines: string[] = [];
  for (let t = 0; t < T; t++) {
    const row = logits.data.subarray(t * V, (t + 1) * V);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    const order = Array.from(row.keys())
      .sort((a, b) => row[b] - row[a])
      .slice(0, k);
    lines.push(`pos ${String(t).padStart(3)}: ` + order.map((id) => `${label(id)} (${((Math.exp(row[id] - max) / sum) * 100).toFixed(1)}%)`).join('  '));
  }
  return lines;
}
