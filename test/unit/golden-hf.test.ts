/**
 * Hugging Face families against PyTorch references written by tools/golden/gen_hf.py (which follows each
 * family's published modeling code): logits and every dumped intermediate, parameter counts, unused tensors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { runTrace } from '../../engine/trace/step';
import type { ModelInput } from '../../engine/model/transformer';
import { assertClose } from '../helpers/close';
import { readExpected } from '../helpers/fixtures';

const HF = path.resolve(__dirname, '..', 'fixtures', 'hf');

interface HfInput {
  input_ids: number[][];
  token_type_ids?: number[][];
  attention_mask?: number[][];
  decoder_input_ids?: number[][];
  decoder_attention_mask?: number[][];
  num_parameters: number;
  text?: string;
}

const cases = fs.existsSync(HF) ? fs.readdirSync(HF).filter((d) => fs.existsSync(path.join(HF, d, 'expected.safetensors'))).sort() : [];

test('the Hugging Face fixtures are all present', () => {
  for (const family of ['gpt2', 'gpt2_prefixed', 'llama', 'llama_tied', 'llama_f16', 'llama_bf16', 'mistral', 'qwen2', 'gemma', 'bert', 'marian', 'deepseek_v2']) {
    assert.ok(cases.includes(family), `missing fixture ${family}`);
  }
});

for (const name of cases) {
  test(`${name}: logits and every recorded intermediate match PyTorch`, () => {
    const dir = path.join(HF, name);
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8')) as HfInput;
    const { model, tokenizer } = loadModel(dir);
    const input: ModelInput = {
      ids: raw.input_ids,
      tokenTypeIds: raw.token_type_ids,
      attentionMask: raw.attention_mask,
      decoderIds: raw.decoder_input_ids,
      decoderAttentionMask: raw.decoder_attention_mask,
    };
    const { steps, result } = runTrace(model.forward(input));
    const got = new Map(steps.map((s) => [s.name, s.tensor]));
    const expected = readExpected(path.join(dir, 'expected.safetensors'));
    // fp32 models at 1e-5; the F16/BF16 copies at 1e-4 (weights rounded, then the reference ran in fp32).
    const rtol = name.endsWith('f16') ? 1e-4 : 1e-5;
    for (const [hookName, want] of expected) {
      const have = hookName === 'logits' ? result : got.get(hookName);
      assert.ok(have, `${name}: the engine records no '${hookName}'`);
      assert.deepEqual([...have.shape], [...want.shape], `${name}: ${hookName} shape`);
      assertClose(have.data, want.data, rtol, `${name}: ${hookName}`);
    }
    assert.equal(model.parameterCount(), raw.num_parameters, `${name}: parameter count`);
    if (raw.text !== undefined && tokenizer) {
      assert.deepEqual(tokenizer.encode(raw.text).ids, raw.input_ids[0], `${name}: tokenizer ids`);
    }
  });
}
