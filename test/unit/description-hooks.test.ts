/**
 * The hooks of a forward pass come from the model's one description (engine/model/hooks.ts): for every
 * family — each Hugging Face fixture and native fixture with its weights, and seeded variants (MoE,
 * latent attention, latent bottleneck, flash attention, encoder-decoder, GQA/RoPE) — every hook the
 * description declares fires with exactly that shape, and no undeclared hook fires.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeModel } from '../../engine/model/describe';
import { describeConfigFile, loadModel } from '../../engine/model/load';
import { declaredHooks, type HookSizes } from '../../engine/model/hooks';
import type { TransformerModel } from '../../engine/model/transformer';
import type { ModelDescription } from '../../engine/model/describe';
import { runTrace } from '../../engine/trace/step';
import { modelTree, nodeForStep } from '../../engine/worker/tree';
import { expandTensors } from '../../engine/analysis/params';
import { descriptionTree } from '../../engine/worker/description-tree';
import { walkTree } from '../../engine/worker/tree';
import type { JsonObject } from '../../engine/config/json';
import { HF_FAMILIES } from '../../engine/model/hf';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');

const families = new Set<string>();

function check(d: ModelDescription, model: TransformerModel, vocab: number): void {
  families.add(d.spec.family);
  const encDec = d.spec.architecture === 'encoder-decoder';
  const sizes: HookSizes = { batch: 2, pos: 3, ...(encDec ? { decoderPos: 2 } : {}) };
  const ids = [[1, 2, 3], [3, 2, 1]].map((r) => r.map((v) => v % vocab));
  const { steps } = runTrace(model.forward({ ids, ...(encDec ? { decoderIds: [[1, 0], [2, 1]] } : {}) }));
  const fired = new Map<string, readonly number[]>();
  for (const s of steps) {
    assert.ok(!fired.has(s.name), `${s.name} fires once`);
    fired.set(s.name, s.tensor.shape);
  }
  const declared = declaredHooks(d.hooks, sizes);
  const want = new Map(declared.map((h) => [h.name, h.shape]));
  assert.equal(want.size, declared.length, 'the description declares each hook once');
  const undeclared = [...fired.keys()].filter((n) => !want.has(n));
  const missing = [...want.keys()].filter((n) => !fired.has(n));
  assert.deepEqual(undeclared, [], 'no undeclared hook fires');
  assert.deepEqual(missing, [], 'every declared hook fires');
  for (const h of declared) {
    assert.deepEqual([...fired.get(h.name)!], [...h.shape], `${h.name}: shape`);
    const step = steps.find((s) => s.name === h.name)!;
    assert.deepEqual([...step.dims], [...h.dims], `${h.name}: axes`);
  }
  assert.ok(declared.length > 10);
  // The sidebar tree agrees with the description: a node for every declared hook, and its root counts
  // exactly the description's tensors.
  const tree = modelTree(model);
  for (const h of declared) assert.ok(nodeForStep(tree, h.name), `the tree has a node for ${h.name}`);
  const described = expandTensors(d.arch).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1n), 0n);
  assert.equal(BigInt(tree.parameters), described, 'tree total = the description total');
  // The tree made from the description alone has the built tree's nodes, labels and counts.
  const fromDescription = [...walkTree(descriptionTree(d))].map(({ node }) => node);
  const fromModules = [...walkTree(tree)].map(({ node }) => node);
  assert.deepEqual(fromDescription.map((n) => `${n.id} ${n.kind} ${n.label}`), fromModules.map((n) => `${n.id} ${n.kind} ${n.label}`), 'same nodes');
  fromDescription.forEach((n, k) => {
    const m = fromModules[k];
    assert.equal(n.parameters, m.parameters, `${n.id}: parameters`);
    assert.equal(n.detail, m.detail, `${n.id}: detail`);
    assert.equal(n.note, m.note, `${n.id}: note`);
    // A file may drop the checkpoint prefix (GPT-2's official file has no `transformer.`).
    const bare = (name: string) => name.replace(/^(transformer|bert)\./, '');
    const names = new Set(m.tensors.map((t) => bare(t.name)));
    // (GPT-2's modules hold c_attn split and transposed: derived tensors with no weight name.)
    if (!names.has('(unnamed)')) for (const t of n.tensors) assert.ok(names.has(bare(t.name)), `${n.id}: ${t.name} is on the built node too`);
    assert.equal(n.hookPath, m.hookPath, `${n.id}: hook path`);
    assert.deepEqual(n.reveal, m.reveal, `${n.id}: reveal`);
  });
  const owners = fromDescription.reduce((a, n) => a + n.parameters - n.children.reduce((t, c) => t + c.parameters, 0), 0);
  assert.equal(BigInt(owners), described, 'own counts over the description tree sum to the total');
}

for (const dir of fs.readdirSync(path.join(FIXTURES, 'hf'))) {
  const full = path.join(FIXTURES, 'hf', dir);
  if (!fs.existsSync(path.join(full, 'config.json'))) continue;
  test(`hf fixture ${dir}: the described hooks are the ones that fire`, () => {
    const d = describeConfigFile(path.join(full, 'config.json'));
    check(d, loadModel(full).model, d.spec.vocabSize);
  });
}

for (const dir of fs.readdirSync(path.join(FIXTURES, 'native'))) {
  const full = path.join(FIXTURES, 'native', dir);
  const cfg = fs.readdirSync(full).find((f) => f.endsWith('.transformer.json'));
  if (!cfg) continue;
  test(`native fixture ${dir}: the described hooks are the ones that fire`, () => {
    const d = describeConfigFile(path.join(full, cfg));
    check(d, loadModel(full).model, d.spec.vocabSize);
  });
}

const tutorial = { vocab_size: 40, d_model: 16, num_heads: 4, d_ff: 32, num_layers: 2, max_len: 12 };
const NATIVE: Record<string, JsonObject> = {
  'encoder-decoder, own target vocabulary, post-norm, learned positions': { ...tutorial, architecture: 'encoder-decoder', tgt_vocab_size: 23, norm_placement: 'post', positional: 'learned' },
  'encoder-decoder, pre-norm, final norm': { ...tutorial, architecture: 'encoder-decoder' },
  'RoPE, GQA, SwiGLU, RMSNorm decoder': { ...tutorial, architecture: 'decoder', positional: 'rope', num_kv_heads: 2, ffn: 'swiglu', norm: 'rmsnorm' },
  'multi-query, GeGLU, no positions': { ...tutorial, architecture: 'decoder', num_kv_heads: 1, ffn: 'geglu', positional: 'none' },
  'latent bottleneck encoder': { ...tutorial, attention: 'latent_bottleneck', num_latents: 3 },
  'flash attention decoder (no scores or patterns)': { ...tutorial, architecture: 'decoder', attention_impl: 'flash' },
};
for (const [name, json] of Object.entries(NATIVE)) {
  test(`native ${name}: the described hooks are the ones that fire`, () => {
    const d = describeModel(json, { native: true });
    check(d, d.build(d.spec), 23);
  });
}

const HF: Record<string, JsonObject> = {
  'deepseek_v2 with MoE after one dense layer': {
    model_type: 'deepseek_v2', vocab_size: 40, hidden_size: 16, intermediate_size: 24, moe_intermediate_size: 8, num_hidden_layers: 3, num_attention_heads: 2,
    n_routed_experts: 4, n_shared_experts: 1, num_experts_per_tok: 2, first_k_dense_replace: 1, kv_lora_rank: 8, q_lora_rank: null, qk_rope_head_dim: 4, qk_nope_head_dim: 6, v_head_dim: 5, max_position_embeddings: 32,
  },
  'gemma (GeGLU, head_dim given)': { model_type: 'gemma', vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 6, max_position_embeddings: 32 },
  'bert (token types, embedding norm)': { model_type: 'bert', architectures: ['BertForMaskedLM'], vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 16 },
};
for (const [name, json] of Object.entries(HF)) {
  test(`hf ${name}: the described hooks are the ones that fire`, () => {
    const d = describeModel(json, { native: false });
    check(d, d.build(d.spec), 23);
  });
}

test('every family the engine runs was checked above (hooks and tree from its description)', () => {
  assert.deepEqual([...families].filter((f) => f !== 'native').sort(), Object.keys(HF_FAMILIES).sort());
});
