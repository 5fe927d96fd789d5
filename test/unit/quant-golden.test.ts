import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { SafetensorsFile } from '../../engine/io/safetensors';
import { quantizeModel, type QuantOptions, type QuantMethod } from '../../engine/quant/quantize-model';
import { compareLogits } from '../../engine/quant/metrics';
import { assertClose } from '../helpers/close';

/**
 * The engine's quantizers against tools/golden/gen_quant.py (re-implementations of the GPTQ and llm-awq
 * reference code and of LLM.int8()'s Eq. 3, run on Hugging Face's LlamaForCausalLM) on the golden tiny
 * Llama with a fixed calibration batch: the integer codes equal, scales within float rounding, every
 * per-layer error and end-to-end figure within 1e-4.
 */
const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const golden = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'quant', 'golden.json'), 'utf8')) as {
  calib_ids: number[][];
  eval_ids: number[][];
  configs: ({ key: string; method: QuantMethod; bits: number; group?: number; sym?: boolean; perTensor?: boolean; threshold?: number; actOrder?: boolean; perplexity_fp: number; perplexity_q: number; kl_mean: number; top1_agreement: number; eval_tokens: number; layers: { name: string; weight_rel_error: number; output_rel_error: number; outlier_dims?: number[]; alpha?: number }[] })[];
};
const tensorsFile = path.join(FIXTURES, 'quant', 'golden.safetensors');
const st = SafetensorsFile.open(tensorsFile);
const bytes = fs.readFileSync(tensorsFile);

/** Any tensor of the golden file as numbers (integer dtypes too, which the weights reader refuses). */
function values(name: string): number[] {
  const info = st.info(name);
  assert.ok(info, `golden tensor ${name}`);
  const buf = bytes.subarray(info.begin, info.end);
  switch (info.dtype) {
    case 'U8':
      return [...buf];
    case 'I8':
      return [...new Int8Array(buf.buffer, buf.byteOffset, buf.length)];
    default:
      return [...st.read(name).data];
  }
}

function relClose(actual: number, expected: number, rtol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.max(Math.abs(expected), 1e-12), `${what}: ${actual} vs ${expected}`);
}

for (const cfg of golden.configs) {
  test(`quantization golden: ${cfg.key} equals the Python reference`, () => {
    const loaded = loadModel(path.join(FIXTURES, 'hf', 'llama'));
    const evalLogits = () => golden.eval_ids.map((ids) => runTrace(loaded.model.forward({ ids: [ids] })).result);
    const fp = evalLogits();
    const opts: QuantOptions = { method: cfg.method, bits: cfg.bits, group: cfg.group, sym: cfg.sym, perTensor: cfg.perTensor, threshold: cfg.threshold, actOrder: cfg.actOrder };
    const q = quantizeModel(loaded.model, { ids: golden.calib_ids }, opts);
    assert.deepEqual(q.layers.map((l) => l.name), cfg.layers.map((l) => l.name), 'layers in forward order');
    q.layers.forEach((l, i) => {
      const ref = cfg.layers[i];
      relClose(l.weight_rel_error, ref.weight_rel_error, 1e-4, `${l.name} weight error`);
      relClose(l.output_rel_error, ref.output_rel_error, 1e-4, `${l.name} output error`);
      assert.deepEqual(l.outlier_dims, ref.outlier_dims, `${l.name} outlier dims`);
      assert.equal(l.alpha, ref.alpha, `${l.name} AWQ α`);
      if (cfg.method === 'llm-int8') return;
      const codes = q.codes.get(l.name)!;
      const p = `${cfg.key}.${l.name}`;
      const expectedQ = values(`${p}.q`);
      const diff = expectedQ.filter((v, j) => v !== codes.q[j]).length;
      assert.equal(diff, 0, `${l.name}: ${diff} of ${expectedQ.length} integer codes differ`);
      assert.deepEqual([...codes.zeros], values(`${p}.zeros`), `${l.name} zero points`);
      assert.deepEqual([...codes.gIdx], values(`${p}.g_idx`), `${l.name} g_idx`);
      assertClose(codes.scales, values(`${p}.scales`), 1e-6, `${l.name} scales`);
      if (cfg.method === 'awq') assertClose(codes.inputScale!, values(`${p}.input_scale`), 1e-6, `${l.name} AWQ s`);
    });
    const end = compareLogits(fp, evalLogits(), golden.eval_ids);
    assert.equal(end.eval_tokens, cfg.eval_tokens);
    relClose(end.perplexity_fp, cfg.perplexity_fp, 1e-4, 'perplexity fp');
    relClose(end.perplexity_q, cfg.perplexity_q, 1e-4, 'perplexity q');
    relClose(end.kl_mean, cfg.kl_mean, 1e-4, 'KL');
    relClose(end.top1_agreement, cfg.top1_agreement, 1e-4, 'top-1 agreement');
    q.restore();
  });
}
