import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import { SafetensorsFile, halfToFloat } from '../../engine/io/safetensors';
import { quantizeModel } from '../../engine/quant/quantize-model';
import { writeQuantizedCheckpoint, floatToHalf } from '../../engine/quant/write-checkpoint';
import { packAwq, unpackAwq, packGptq, unpackGptq } from '../../engine/quant/packing';
import { quantizeRtn } from '../../engine/quant/rtn';
import { InspectorError } from '../../engine/errors';
import { assertClose } from '../helpers/close';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const LLAMA = path.join(FIXTURES, 'hf', 'llama');
const golden = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'quant', 'golden.json'), 'utf8')) as { calib_ids: number[][]; eval_ids: number[][] };

for (const [folder, method] of [['gptq-llama', 'GPTQ'], ['awq-llama', 'AWQ']] as const) {
  test(`a ${method} folder written in ${method === 'GPTQ' ? 'AutoGPTQ’s packing (desc_act, g_idx)' : 'AutoAWQ’s GEMM packing'} loads: weights dequantized exactly, logits as PyTorch`, () => {
    const dir = path.join(FIXTURES, 'quant', folder);
    const loaded = loadModel(dir);
    assert.match(loaded.model.weightsDescription, new RegExp(`${method} 4-bit, groups of 16`));
    assert.deepEqual(loaded.model.unusedWeights, [], 'every qweight/qzeros/scales/g_idx is used');
    const expected = SafetensorsFile.open(path.join(dir, 'expected.safetensors'));
    let linears = 0;
    for (const name of expected.names().filter((n) => n.endsWith('.weight'))) {
      assert.deepEqual(loaded.model.parameters.get(name)!.data, expected.read(name).data, name);
      linears++;
    }
    assert.equal(linears, 14);
    golden.eval_ids.forEach((ids, i) => {
      const logits = runTrace(loaded.model.forward({ ids: [ids] })).result;
      assertClose(logits.data, expected.read(`logits.${i}`).data, 1e-5, `logits ${i}`);
    });
  });
}

test('packing round trips: AutoGPTQ (2, 4, 8 bits, zeros stored minus one) and AutoAWQ (order 0 2 4 6 1 3 5 7)', () => {
  const w = Float32Array.from({ length: 16 * 64 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
  for (const bits of [2, 4, 8]) {
    const qw = quantizeRtn(w, 16, 64, { bits, group: 16, sym: bits === 8 });
    const back = unpackGptq(packGptq(qw), 16, 64, 4, bits);
    assert.deepEqual(back.q, qw.q);
    assert.deepEqual(back.zeros, qw.zeros);
  }
  const qw = quantizeRtn(w, 16, 64, { bits: 4, group: 32, sym: false });
  const packed = packAwq(qw);
  // Word 0 of row 0 holds output columns 0, 2, 4, 6, 1, 3, 5, 7 in its nibbles 0…7.
  const word = packed.qweight[0];
  [0, 2, 4, 6, 1, 3, 5, 7].forEach((n, slot) => assert.equal((word >>> (4 * slot)) & 15, qw.q[n * 64 + 0]));
  const back = unpackAwq(packed, 16, 64, 2, 4);
  assert.deepEqual(back.q, qw.q);
  assert.deepEqual(back.zeros, qw.zeros);
  assert.throws(() => packGptq(quantizeRtn(w, 16, 64, { bits: 3, sym: false })), /packed here for 2, 4 or 8 bits, not 3/);
});

test('--out writes an AutoGPTQ folder that loads back to the same codes (scales in fp16)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-gptq-'));
  try {
    const loaded = loadModel(LLAMA);
    const q = quantizeModel(loaded.model, { ids: golden.calib_ids }, { method: 'gptq', bits: 4, group: 16, actOrder: true });
    writeQuantizedCheckpoint(dir, loaded, q);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> };
    assert.deepEqual(
      { m: cfg.quantization_config.quant_method, b: cfg.quantization_config.bits, g: cfg.quantization_config.group_size, d: cfg.quantization_config.desc_act },
      { m: 'gptq', b: 4, g: 16, d: true },
    );
    const back = loadModel(dir);
    assert.deepEqual(back.model.unusedWeights, []);
    for (const [layer, qw] of q.codes) {
      const w = back.model.parameters.get(`${layer}.weight`)!.data;
      for (let n = 0; n < qw.rows; n++) {
        for (let k = 0; k < qw.columns; k++) {
          const j = n * qw.groups + qw.gIdx[k];
          const expected = Math.fround(halfToFloat(floatToHalf(qw.scales[j])) * (qw.q[n * qw.columns + k] - qw.zeros[j]));
          assert.equal(w[n * qw.columns + k], expected, `${layer}[${n}, ${k}]`);
        }
      }
    }
    // Other tensors come back unchanged.
    assert.deepEqual(back.model.parameters.get('model.norm.weight')!.data, loaded.model.parameters.get('model.norm.weight')!.data);
    const a = runTrace(loaded.model.forward({ ids: [golden.eval_ids[0]] })).result;
    const b = runTrace(back.model.forward({ ids: [golden.eval_ids[0]] })).result;
    assertClose(b.data, a.data, 1e-2, 'logits with fp16 scales');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--out for AWQ writes AutoAWQ’s GEMM layout with s folded into the norms; it loads back to the same model', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-awq-'));
  try {
    const loaded = loadModel(LLAMA);
    const norm0 = Float32Array.from(loaded.model.parameters.get('model.layers.0.input_layernorm.weight')!.data);
    const q = quantizeModel(loaded.model, { ids: golden.calib_ids }, { method: 'awq', bits: 4, group: 16, foldableOnly: true });
    // Only q/k/v and gate/up (they read a norm's output) are scaled; o_proj and down_proj keep s = 1.
    for (const l of q.layers) {
      const scaled = /(q_proj|k_proj|v_proj|gate_proj|up_proj)$/.test(l.name);
      if (!scaled) assert.equal(l.alpha, 0, l.name);
    }
    assert.ok(q.folds.length > 0, 'some scales fold');
    assert.ok(q.folds.every((f) => /(input_layernorm|post_attention_layernorm)\.weight$/.test(f.weight)));
    writeQuantizedCheckpoint(dir, loaded, q);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> };
    assert.equal(cfg.quantization_config.quant_method, 'awq');
    assert.equal(cfg.quantization_config.version, 'gemm');
    const back = loadModel(dir);
    assert.deepEqual(back.model.unusedWeights, []);
    const fold0 = q.folds.find((f) => f.weight === 'model.layers.0.input_layernorm.weight');
    if (fold0) assertClose(back.model.parameters.get(fold0.weight)!.data, Float32Array.from(norm0, (v, k) => v / fold0.scale[k]), 1e-6, 'folded norm');
    for (const [layer, qw] of q.codes) {
      const w = back.model.parameters.get(`${layer}.weight`)!.data;
      for (let n = 0; n < qw.rows; n++) {
        for (let k = 0; k < qw.columns; k++) {
          const j = n * qw.groups + qw.gIdx[k];
          assert.equal(w[n * qw.columns + k], Math.fround(halfToFloat(floatToHalf(qw.scales[j])) * (qw.q[n * qw.columns + k] - qw.zeros[j])), `${layer}[${n}, ${k}]`);
        }
      }
    }
    // The folded checkpoint computes what the engine's AWQ model computes (up to the fp16 scales).
    const a = runTrace(loaded.model.forward({ ids: [golden.eval_ids[0]] })).result;
    const b = runTrace(back.model.forward({ ids: [golden.eval_ids[0]] })).result;
    assertClose(b.data, a.data, 1e-2, 'logits');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('floatToHalf rounds to the nearest fp16, ties to even', () => {
  for (const v of [0, 1, -2.5, 65504, 1e-7, 6.1e-5, 0.1, 3.14159, -1234.5678]) {
    const h = halfToFloat(floatToHalf(v));
    assert.ok(Math.abs(h - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} → ${h}`);
  }
  assert.equal(halfToFloat(floatToHalf(1 + 2 ** -11)), 1, 'a tie goes to the even neighbour');
  assert.equal(halfToFloat(floatToHalf(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
  assert.equal(halfToFloat(floatToHalf(1e6)), Infinity);
});

function tampered(edit: (cfg: Record<string, unknown>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bad-'));
  for (const f of fs.readdirSync(path.join(FIXTURES, 'quant', 'gptq-llama'))) fs.copyFileSync(path.join(FIXTURES, 'quant', 'gptq-llama', f), path.join(dir, f));
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(cfg);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

test('a quantization_config that does not match the tensors, or that this reader does not know, is a named error', () => {
  const cases: [(c: Record<string, Record<string, unknown>>) => void, RegExp][] = [
    [(c) => (c.quantization_config.group_size = 8), /tensor 'model\.layers\.0\.self_attn\.q_proj\.qzeros': has shape \[2, 4\] but quantization_config \(4-bit, group_size 8\) and qweight imply \[4, 4\]/],
    [(c) => (c.quantization_config.bits = 8), /tensor 'model\.layers\.0\.self_attn\.q_proj\.weight': has shape \[32, 16\] but the config implies \[32, 32\]/],
    [(c) => (c.quantization_config.bits = 3), /key 'quantization_config\.bits': bits 3 is not a packing/],
    [(c) => (c.quantization_config.quant_method = 'bitsandbytes'), /key 'quantization_config\.quant_method': quant_method "bitsandbytes" is not supported/],
    [(c) => (c.quantization_config.group_size = 0), /key 'quantization_config\.group_size': .*(-1|positive)/],
  ];
  for (const [edit, pattern] of cases) {
    const dir = tampered(edit as (c: Record<string, unknown>) => void);
    try {
      assert.throws(() => loadModel(dir), (e: unknown) => e instanceof InspectorError && pattern.test(e.describe()), String(pattern));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
