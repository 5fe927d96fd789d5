import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explain } from '../../engine/worker/explain';
import { nativeSpecFromJson } from '../../engine/config/native';

const base = { vocab_size: 30, d_model: 16, num_heads: 2, d_ff: 32, num_layers: 1, max_len: 8 };

test('the panel names each variant honestly: RoPE layout, gated FFN kind, latent bottleneck', () => {
  const half = nativeSpecFromJson({ ...base, architecture: 'decoder', positional: 'rope', ffn: 'swiglu' });
  assert.match(explain('blocks.0.attn.hook_rot_q', half), /rotate_half/);
  assert.match(explain('blocks.0.mlp.hook_post', half), /SwiGLU/);
  assert.match(explain('blocks.0.mlp.hook_pre', half), /gate projection/);
  const neg = nativeSpecFromJson({ ...base, architecture: 'decoder', positional: 'rope', rope_layout: 'tutorial_neg', ffn: 'glu' });
  assert.match(explain('blocks.0.attn.hook_rot_k', neg), /tutorial variant.*not compatible with real weights/);
  assert.match(explain('blocks.0.mlp.hook_post', neg), /sigmoid GLU.*Swish GLU/);
  const latent = nativeSpecFromJson({ ...base, attention: 'latent_bottleneck', num_latents: 2 });
  assert.match(explain('blocks.0.attn.to_latents.hook_pattern', latent), /Perceiver-style.*Not DeepSeek/);
  assert.match(explain('blocks.0.attn.from_latents.hook_pattern', latent), /O\(n·m\)/);
});

test("a Hugging Face gated MLP is named by its gate's activation: Gemma's is GeGLU-tanh, Llama's SwiGLU", async () => {
  const { hfSpec } = await import('../../engine/model/hf');
  const tiny = { vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8 };
  const gemma = hfSpec(JSON.stringify({ model_type: 'gemma', ...tiny }));
  assert.match(explain('blocks.0.mlp.hook_post', gemma), /^GeGLU-tanh .*GELU in its tanh approximation of the gate/);
  assert.match(explain('blocks.0.mlp.hook_pre', gemma), /GeGLU-tanh/);
  assert.doesNotMatch(explain('blocks.0.mlp.hook_post', gemma), /SwiGLU/);
  const llama = hfSpec(JSON.stringify({ model_type: 'llama', ...tiny }));
  assert.match(explain('blocks.0.mlp.hook_post', llama), /^SwiGLU .*SiLU/);
  const exact = hfSpec(JSON.stringify({ model_type: 'gemma', ...tiny, hidden_activation: 'gelu' }));
  assert.match(explain('blocks.0.mlp.hook_post', exact), /^GeGLU \(exact GELU gate\).*erf/);
});

test('formulas show only the terms the model has; the output head has the family’s name', async () => {
  const { resolve } = await import('node:path');
  const { Session } = await import('../../engine/worker/session');
  const control = { cancelled: () => false, progress: () => {} };
  const explanation = (config: string, hook: string) => {
    const s = new Session();
    s.load(resolve(__dirname, '..', '..', config), undefined, 'auto', control);
    const m = s.move({ to: 'hook', name: hook }, control);
    return m.position.kind === 'step' ? m.position.step.explanation : '';
  };
  // Llama: no attention or MLP bias, lm_head.
  assert.match(explanation('examples/tiny-llama/config.json', 'blocks.0.attn.hook_q'), /^Queries: x·W_Qᵀ, split/);
  assert.doesNotMatch(explanation('examples/tiny-llama/config.json', 'blocks.0.attn.hook_v'), /b_V/);
  assert.match(explanation('examples/tiny-llama/config.json', 'logits'), /\(lm_head\)/);
  assert.doesNotMatch(explanation('examples/tiny-llama/config.json', 'logits'), /fc_out/);
  // The tutorial: every bias, fc_out.
  assert.match(explanation('examples/tutorial/tutorial.transformer.json', 'blocks.0.attn.hook_q'), /x·W_Qᵀ \+ b_Q/);
  assert.match(explanation('examples/tutorial/tutorial.transformer.json', 'blocks.0.hook_attn_out'), /W_O \+ b_O/);
  assert.match(explanation('examples/tutorial/tutorial.transformer.json', 'blocks.0.mlp.hook_pre'), /x·W_1ᵀ \+ b_1/);
  assert.match(explanation('examples/tutorial/tutorial.transformer.json', 'logits'), /\(fc_out/);
  // Qwen2: biases on q, k, v but not on o_proj.
  assert.match(explanation('test/fixtures/hf/qwen2/config.json', 'blocks.0.attn.hook_k'), /x·W_Kᵀ \+ b_K/);
  assert.doesNotMatch(explanation('test/fixtures/hf/qwen2/config.json', 'blocks.0.hook_attn_out'), /b_O/);
});
