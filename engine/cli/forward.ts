import { parseArgs } from 'node:util';
import { InspectorError } from '../errors';
import { loadModel } from '../model/load';
import { writeSafetensors } from '../io/safetensors';
import { shapeToString, type Tensor } from '../tensor';
import { parseIdList, parsePositiveInt } from './args';
import { setKernelThreads } from '../kernels';
import { runTraceWithProgress, stderrProgress } from './progress';

export const FORWARD_USAGE = `usage: transformer-inspector forward PATH (--ids 5,77,13 | --text "…") [--decoder-ids 1,2 | --decoder-text "…"] [--token-type-ids 0,0,1]
                                    [--mask 1,1,0] [--seed N] [--top K] [--dump OUT.safetensors] [--threads N]
  PATH is a *.transformer.json / config.json file or a folder holding one.
  Separate the sequences of a batch with ';' (e.g. --ids "5,7,9;5,7,0").`;

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
      threads: { type: 'string' },
    },
  });
  if (values.threads !== undefined) setKernelThreads(Math.max(1, parsePositiveInt(values.threads, '--threads', 1)));
  if (positionals.length !== 1) throw new InspectorError(`forward takes one PATH\n${FORWARD_USAGE}`);
  if (!values.ids && values.text === undefined) throw new InspectorError(`forward needs --ids or --text\n${FORWARD_USAGE}`);
  if (values.ids && values.text !== undefined) throw new InspectorError('give --ids or --text, not both');
  const loaded = loadModel(positionals[0], { seed: values.seed !== undefined ? parsePositiveInt(values.seed, '--seed', 0) : undefined, weights: values.seeded ? 'seeded' : 'auto' });
  const tokenize = (text: string, flag: string): number[][] => {
    if (!loaded.tokenizer) throw new InspectorError(`${flag} needs a tokenizer.json beside the config; give ids instead`, { file: loaded.configPath });
    const { ids } = loaded.tokenizer.encode(text);
    if (ids.length === 0) throw new InspectorError(`${flag}: the text tokenizes to no tokens`);
    return [ids];
  };
  const ids = values.text !== undefined ? tokenize(values.text, '--text') : parseIdList(values.ids!, '--ids');
  const decoderIds = values['decoder-text'] !== undefined ? tokenize(values['decoder-text'], '--decoder-text') : values['decoder-ids'] ? parseIdList(values['decoder-ids'], '--decoder-ids') : undefined;
  const tokenTypeIds = values['token-type-ids'] ? parseIdList(values['token-type-ids'], '--token-type-ids') : undefined;
  const attentionMask = values.mask ? parseIdList(values.mask, '--mask') : undefined;
  const top = parsePositiveInt(values.top, '--top', 5);
  const { model, spec, tokenizer } = loaded;
  const label = (id: number) => (tokenizer ? JSON.stringify(tokenizer.label(id)) : String(id));
  const t0 = performance.now();
  const layers = spec.numLayers + (spec.architecture === 'encoder-decoder' ? spec.numDecoderLayers : 0);
  const { steps, result: logits } = runTraceWithProgress(model.forward({ ids, decoderIds, tokenTypeIds, attentionMask }), layers, stderrProgress());
  const ms = performance.now() - t0;

  out(`config    ${loaded.configPath}`);
  out(`model     ${spec.family} ${spec.architecture}: ${spec.numLayers}${spec.architecture === 'encoder-decoder' ? `+${spec.numDecoderLayers}` : ''} layers, d_model ${spec.dModel}, ${spec.numHeads} heads, d_ff ${spec.dFF}, vocab ${spec.vocabSize}`);
  out(`weights   ${model.weightsDescription}${model.seeded ? ' — no weights file beside the config' : ''}`);
  out(`params    ${model.parameterCount().toLocaleString('en-US')}`);
  if (model.unusedWeights.length) out(`unused    ${model.unusedWeights.length} tensors in the file: ${model.unusedWeights.slice(0, 8).join(', ')}${model.unusedWeights.length > 8 ? ', …' : ''}`);
  if (tokenizer) out(`tokens    ${ids[0].map(label).join(' ')}`);
  out(`forward   ${steps.length} steps in ${ms.toFixed(1)} ms`);
  out('');
  out('steps');
  const width = Math.max(...steps.map((s) => s.name.length));
  for (const s of steps) out(`  ${s.name.padEnd(width)}  ${shapeToString(s.tensor.shape).padEnd(18)} ${s.dims.join(' × ')}`);
  out('');
  out(`top ${top} predictions per position (batch 0)`);
  for (const line of topPredictions(logits, top, label)) out(`  ${line}`);

  if (values.dump) {
    const tensors = new Map<string, Tensor>();
    for (const s of steps) tensors.set(s.name, s.tensor);
    tensors.set('logits', logits);
    writeSafetensors(values.dump, tensors, { format: 'pt', source: 'transformer-inspector' });
    out('');
    out(`wrote ${tensors.size} tensors to ${values.dump}`);
  }
  return 0;
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
