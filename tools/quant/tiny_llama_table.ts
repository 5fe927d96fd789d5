/**
 * The table in docs/quantization.md: held-out perplexity of examples/tiny-llama under each method.
 *   node --import tsx tools/quant/tiny_llama_table.ts [--eval N] [--json]
 * Calibration: test/fixtures/quant/kjv-calib.txt (64 training verses); evaluation: the first N (200) of the
 * held-out verses in test/fixtures/quant/kjv-heldout.txt, each scored as its own sequence.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { quantizeAndMeasure } from '../../engine/cli/quantize';
import type { QuantOptions } from '../../engine/quant/quantize-model';

export const TABLE_ROWS: { label: string; opts: QuantOptions }[] = [
  { label: 'int8 absmax per channel', opts: { method: 'int8', bits: 8 } },
  { label: 'LLM.int8() (α = 6)', opts: { method: 'llm-int8', bits: 8 } },
  { label: 'int4 RTN g32', opts: { method: 'rtn', bits: 4, group: 32 } },
  { label: 'int4 GPTQ g32', opts: { method: 'gptq', bits: 4, group: 32 } },
  { label: 'int4 AWQ g32', opts: { method: 'awq', bits: 4, group: 32 } },
  { label: 'int3 RTN g32', opts: { method: 'rtn', bits: 3, group: 32 } },
  { label: 'int3 GPTQ g32', opts: { method: 'gptq', bits: 3, group: 32 } },
  { label: 'int3 AWQ g32', opts: { method: 'awq', bits: 3, group: 32 } },
];

const ROOT = path.resolve(__dirname, '..', '..');

export function tinyLlamaLines(file: string, count: number): string[] {
  return fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'quant', file), 'utf8').split('\n').filter((l) => l.trim()).slice(0, count);
}

export function tableRow(opts: QuantOptions, calibLines: string[], evalLines: string[]) {
  const loaded = loadModel(path.join(ROOT, 'examples', 'tiny-llama'));
  const enc = (lines: string[]) => lines.map((l) => loaded.tokenizer!.encode(l).ids.slice(0, loaded.spec.maxLen));
  return quantizeAndMeasure(loaded, opts, enc(calibLines), enc(evalLines)).report;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const n = args.includes('--eval') ? Number(args[args.indexOf('--eval') + 1]) : 200;
  const calib = tinyLlamaLines('kjv-calib.txt', 64);
  const evals = tinyLlamaLines('kjv-heldout.txt', n);
  const rows = TABLE_ROWS.map(({ label, opts }) => ({ label, ...tableRow(opts, calib, evals) }));
  if (args.includes('--json')) {
    console.log(JSON.stringify(rows.map(({ layers: _layers, ...r }) => r), null, 1));
  } else {
    console.log(`calibration ${rows[0].calib_tokens} tokens, evaluation ${rows[0].eval_tokens} predicted tokens (${n} held-out verses)\n`);
    console.log('| weights | perplexity | mean KL vs fp32 (nats) | top-1 agreement | mean output error | weight bytes |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    console.log(`| fp32 | ${rows[0].perplexity_fp.toFixed(3)} | 0 | 100% | 0 | ${rows[0].weights_bytes_fp.toLocaleString('en-US')} |`);
    for (const r of rows) {
      const meanOut = r.layers.reduce((s, l) => s + l.output_rel_error, 0) / r.layers.length;
      console.log(`| ${r.label} | ${r.perplexity_q.toFixed(3)} | ${r.kl_mean.toFixed(5)} | ${(r.top1_agreement * 100).toFixed(2)}% | ${meanOut.toFixed(4)} | ${r.weights_bytes.toLocaleString('en-US')} |`);
    }
  }
}
