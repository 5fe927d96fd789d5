import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeSpecFromJson } from '../../engine/config/native';
import { buildNativeModel } from '../../engine/model/native';
import { runTrace } from '../../engine/trace/step';
import { modelTree, nodeForStep, walkTree, type ModelNode } from '../../engine/worker/tree';
import { breadcrumb, explain } from '../../engine/worker/explain';
import { HOOK_DIMS } from '../../engine/trace/hooks';

const tutorial = { vocab_size: 32, d_model: 16, num_heads: 2, d_ff: 32, num_layers: 2, max_len: 16, dropout: 0.1 };

const labels = (n: ModelNode): string[] => n.children.map((c) => c.label);

test('tree: embeddings, blocks with norms/attention(heads)/MLP, final norm, LM head; counts add up', () => {
  const model = buildNativeModel(nativeSpecFromJson(tutorial));
  const tree = modelTree(model);
  assert.equal(tree.parameters, model.parameterCount());
  assert.deepEqual(labels(tree), ['Embeddings', 'Block 0', 'Block 1', 'Final norm', 'LM head']);
  const b0 = tree.children[1];
  assert.deepEqual(labels(b0), ['Norm 1', 'Multi-head attention', 'Norm 2', 'Feed-forward (MLP)']);
  const attn = b0.children[1];
  assert.deepEqual(labels(attn), ['Head 0', 'Head 1']);
  // 4 linears of 16×16 + 16: from the engine's tensors, not from config arithmetic
  assert.equal(attn.parameters, 4 * (16 * 16 + 16));
  assert.ok(attn.tensors.some((t) => t.name === 'encoder.layers.0.attn.linear_q.weight'));
  // Nothing is tied here, so every node is its own tensors plus its children.
  const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);
  for (const { node } of walkTree(tree)) {
    const own = node.tensors.reduce((a, t) => a + size(t.shape), 0);
    assert.equal(node.parameters, own + node.children.reduce((a, c) => a + c.parameters, 0), node.id);
  }
});

test('tree: shared layers and tied embeddings are counted once, with a note', () => {
  const model = buildNativeModel(nativeSpecFromJson({ ...tutorial, shared_layers: true, tie_embeddings: true }));
  const tree = modelTree(model);
  assert.equal(tree.parameters, model.parameterCount());
  assert.equal(tree.children[2].parameters, 0);
  assert.match(tree.children[2].note ?? '', /block 0's tensors/);
  assert.match(tree.children.at(-1)?.note ?? '', /tied/);
});

test('tree: encoder-decoder has two stacks; post-norm puts the norm after its sublayer', () => {
  const model = buildNativeModel(nativeSpecFromJson({ ...tutorial, architecture: 'encoder-decoder', norm_placement: 'post' }));
  const tree = modelTree(model);
  assert.deepEqual(labels(tree), ['Encoder', 'Decoder', 'LM head']);
  const dec0 = tree.children[1].children[1];
  assert.equal(dec0.id, 'decoder.blocks.0');
  assert.deepEqual(labels(dec0), ['Multi-head attention', 'Norm 1', 'Cross-attention: Multi-head attention', 'Norm 2', 'Feed-forward (MLP)', 'Norm 3']);
  assert.equal(tree.parameters, model.parameterCount());
});

test('nodeForStep finds the deepest node a step belongs to', () => {
  const model = buildNativeModel(nativeSpecFromJson(tutorial));
  const tree = modelTree(model);
  const { steps } = runTrace(model.forward({ ids: [[1, 2]] }));
  for (const s of steps) assert.ok(nodeForStep(tree, s.name), `every step has a node: ${s.name}`);
  assert.equal(nodeForStep(tree, 'blocks.0.attn.hook_pattern')?.id, 'blocks.0.attn');
  assert.equal(nodeForStep(tree, 'blocks.1.hook_attn_out')?.id, 'blocks.1');
  assert.equal(nodeForStep(tree, 'blocks.1.ln2.hook_normalized')?.id, 'blocks.1.ln2');
  assert.equal(nodeForStep(tree, 'hook_embed')?.id, 'embed');
  assert.equal(nodeForStep(tree, 'logits')?.id, 'lm_head');
  assert.equal(nodeForStep(tree, 'ln_final.hook_normalized')?.id, 'ln_final');
});

test('breadcrumbs name the place in the architecture', () => {
  assert.deepEqual(breadcrumb('blocks.0.attn.hook_pattern', 'encoder'), ['Encoder', 'Block 0', 'Attention', 'Pattern']);
  assert.deepEqual(breadcrumb('blocks.3.hook_resid_post', 'decoder'), ['Decoder', 'Block 3', 'Residual out']);
  assert.deepEqual(breadcrumb('decoder.blocks.1.ln2.hook_normalized', 'encoder-decoder'), ['Decoder', 'Block 1', 'Norm 2', 'Normalized']);
  assert.deepEqual(breadcrumb('encoder.hook_pos_embed', 'encoder-decoder'), ['Encoder', 'Embeddings', 'Positional encoding']);
  assert.deepEqual(breadcrumb('ln_final.hook_normalized', 'decoder'), ['Decoder', 'Final norm', 'Normalized']);
  assert.deepEqual(breadcrumb('logits', 'decoder'), ['LM head', 'Logits']);
  assert.deepEqual(breadcrumb('decoder.blocks.0.cross_attn.hook_z', 'encoder-decoder'), ['Decoder', 'Block 0', 'Cross-attention', 'Weighted values']);
});

test('every hook kind has a one-sentence explanation, specific to the variant', () => {
  const spec = nativeSpecFromJson(tutorial);
  for (const kind of Object.keys(HOOK_DIMS)) {
    const name = kind === 'logits' ? kind : `blocks.0.attn.${kind}`;
    const text = explain(name, spec);
    assert.ok(text.length > 20 && text.endsWith('.'), `${kind}: ${text}`);
    assert.doesNotMatch(text, /The tensor recorded at/, `${kind} has its own sentence`);
  }
  assert.match(explain('blocks.0.attn.hook_pattern', spec), /^softmax\(QKᵀ\/√d_k \+ mask\) per head: row i is where query token i looks/);
  assert.match(explain('blocks.0.attn.hook_attn_scores', spec), /−1e9/);
  assert.match(explain('hook_pos_embed', spec), /interleaved/);
  assert.match(explain('hook_embed', spec), /not scaled/);
  assert.match(explain('hook_embed', nativeSpecFromJson({ ...tutorial, scale_embedding: true })), /√d_model/);
  assert.match(explain('blocks.0.mlp.hook_post', spec), /ReLU/);
  assert.match(explain('blocks.0.ln1.hook_normalized', spec), /pre-norm/);
  assert.match(explain('blocks.0.ln1.hook_normalized', nativeSpecFromJson({ ...tutorial, norm_placement: 'post' })), /post-norm/);
});
