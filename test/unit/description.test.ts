import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeModel, checked } from '../../engine/model/describe';
import { analyzeConfig } from '../../engine/analysis';
import type { ArchDesc, ModuleDef } from '../../engine/analysis/types';

/** The one description: what the analysis counts is what the build allocates, and a build that strays from it is caught. */

const gemma = { model_type: 'gemma', vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1 };

test('a description resolves the family defaults once: the analysis and the run spec agree (Gemma head_dim 256)', () => {
  const d = describeModel(gemma, { native: false });
  assert.equal(d.spec.headDim, 256);
  assert.equal(d.spec.ffn, 'geglu');
  assert.equal(d.spec.activation, 'gelu_tanh');
  assert.equal(analyzeConfig(gemma).params.total, 52176n); // what transformers builds (test/fixtures/hf-counts)
  const model = d.build(d.spec);
  assert.equal(model.parameterCount(), 52176);
});

/** The same tree with one tensor dropped from the first module that has one. */
function withoutFirstTensor(arch: ArchDesc): ArchDesc {
  let done = false;
  const drop = (m: ModuleDef): ModuleDef => {
    if (!done && m.tensors.length > 0) {
      done = true;
      return { ...m, tensors: m.tensors.slice(1) };
    }
    return { ...m, children: m.children.map(drop) };
  };
  return { ...arch, root: drop(arch.root) };
}

test('a built model whose tensors differ from its description is refused as an engine bug', () => {
  const d = describeModel(gemma, { native: false });
  const model = d.build(d.spec);
  assert.doesNotThrow(() => checked(d.arch, model));
  assert.throws(
    () => checked(withoutFirstTensor(d.arch), model),
    (e: unknown) => e instanceof Error && e.name === 'Error' && /differs from its description: model\.embed_tokens\.weight is not in the description/.test(e.message),
  );
});

test('an analysis-only family is described for the analysis and refused for running, naming the families the engine runs', () => {
  const t5 = { model_type: 't5', vocab_size: 40, d_model: 16, d_kv: 4, d_ff: 24, num_layers: 1, num_heads: 4 };
  assert.ok(analyzeConfig(t5).params.total > 0n);
  assert.throws(() => describeModel(t5, { native: false }), /model_type "t5" is not one the engine runs \(supported: gpt2, llama/);
});
