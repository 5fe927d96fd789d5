import schema from '../../schemas/transformer.schema.json';

/**
 * What each config key means, in one sentence: native keys from the JSON Schema's descriptions
 * (one source for hovers and completion), Hugging Face keys from the table below.
 */

const NATIVE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(schema.properties as Record<string, { description?: string }>).map(([k, v]) => [k, v.description ?? '']),
);

const HF: Readonly<Record<string, string>> = {
  model_type: 'The model family; decides how every other key is read.',
  architectures: 'The model classes this checkpoint was saved from (e.g. LlamaForCausalLM): decides which head is counted.',
  hidden_size: 'Width of the residual stream (d_model): every token is a vector of this many numbers between layers.',
  n_embd: 'Width of the residual stream (d_model), GPT-2 name.',
  d_model: 'Width of the residual stream.',
  intermediate_size: 'Hidden width of each feed-forward layer (d_ff); gated FFNs (SwiGLU) have three matrices of this width.',
  n_inner: 'Hidden width of each feed-forward layer (GPT-2; null means 4 × n_embd).',
  encoder_ffn_dim: 'Hidden width of the encoder feed-forward layers.',
  decoder_ffn_dim: 'Hidden width of the decoder feed-forward layers.',
  moe_intermediate_size: 'Hidden width of each routed expert.',
  num_attention_heads: 'Query heads per attention layer; d_head = hidden_size / num_attention_heads unless head_dim is given.',
  n_head: 'Attention heads per layer (GPT-2).',
  encoder_attention_heads: 'Attention heads per encoder layer.',
  decoder_attention_heads: 'Attention heads per decoder layer.',
  num_key_value_heads: 'Key/value heads: = num_attention_heads is multi-head attention, 1 is multi-query, in between grouped-query (query heads share K/V in groups). Fewer K/V heads shrink the KV cache.',
  head_dim: 'Dimension of each attention head, when it is not hidden_size / num_attention_heads.',
  num_hidden_layers: 'Number of Transformer blocks.',
  n_layer: 'Number of Transformer blocks (GPT-2).',
  encoder_layers: 'Number of encoder blocks.',
  decoder_layers: 'Number of decoder blocks.',
  vocab_size: 'Number of token ids: rows of the token embedding, columns of the logits.',
  max_position_embeddings: 'Longest context the positional scheme is built for (rows of a learned position table; the RoPE range the model was trained on).',
  n_positions: 'Longest context (GPT-2): rows of the learned position table.',
  rms_norm_eps: 'The ε inside RMSNorm.',
  layer_norm_eps: 'The ε inside LayerNorm.',
  layer_norm_epsilon: 'The ε inside LayerNorm.',
  rope_theta: 'Base θ of the rotary position frequencies.',
  rope_scaling: 'How RoPE is stretched to longer contexts (linear, dynamic, yarn, llama3…).',
  partial_rotary_factor: 'Fraction of each head dimension that RoPE rotates.',
  hidden_act: 'Activation of the feed-forward layer (of its gate, for gated FFNs).',
  activation_function: 'Activation of the feed-forward layer.',
  tie_word_embeddings: 'The output projection reuses the token embedding matrix (counted once).',
  sliding_window: 'Attention window: each token attends to at most this many previous tokens (bounds the KV cache).',
  attention_bias: 'The Q, K, V and output projections have biases.',
  mlp_bias: 'The feed-forward projections have biases.',
  num_experts: 'Routed experts per MoE layer.',
  n_routed_experts: 'Routed experts per MoE layer.',
  num_experts_per_tok: 'Experts each token is sent to (top-k).',
  n_shared_experts: 'Experts every token passes through.',
  kv_lora_rank: 'Multi-head latent attention: width of the compressed K/V latent that is cached.',
  q_lora_rank: 'Multi-head latent attention: width of the compressed query.',
  qk_rope_head_dim: 'Multi-head latent attention: per-head dims that carry RoPE.',
  qk_nope_head_dim: 'Multi-head latent attention: per-head query/key dims without RoPE.',
  v_head_dim: 'Dimension of each value head.',
  type_vocab_size: 'Segment (token type) ids: rows of the token type embedding (BERT).',
  torch_dtype: 'The element type the checkpoint stores its weights in.',
  bos_token_id: 'Id of the beginning-of-sequence token.',
  eos_token_id: 'Id of the end-of-sequence token.',
  pad_token_id: 'Id of the padding token.',
};

export function describeKey(key: string, native: boolean): string | undefined {
  return native ? NATIVE[key] || undefined : HF[key];
}
