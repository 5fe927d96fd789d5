"""config.json contents for each case, as `save_pretrained` (transformers 4.46) writes them.

`PretrainedConfig.to_diff_dict` keeps every key that is not a base-`PretrainedConfig` key, plus any base
key whose value differs from the base default or from the class's own default; `save_pretrained` sets
`architectures` and `torch_dtype`, and `transformers_version` is always written. So class-specific keys
appear even at their defaults, while e.g. `tie_word_embeddings: true` is absent for GPT-2 and Gemma
(their class default equals the base default True) but present for Llama/Qwen2 (class default False).
"""
from .common import TRANSFORMERS_VERSION


def _stamp(cfg, arch, dtype="float32"):
    cfg = dict(cfg)
    cfg["architectures"] = [arch]
    cfg["torch_dtype"] = dtype
    cfg["transformers_version"] = TRANSFORMERS_VERSION
    return cfg


def gpt2_config():
    return _stamp({
        "activation_function": "gelu_new",
        "attn_pdrop": 0.1,
        "bos_token_id": 127,
        "embd_pdrop": 0.1,
        "eos_token_id": 127,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-3,          # non-default (1e-5)
        "model_type": "gpt2",
        "n_embd": 32,
        "n_head": 4,
        "n_inner": None,                     # -> 4 * n_embd
        "n_layer": 2,
        "n_positions": 16,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "use_cache": True,
        "vocab_size": 128,
    }, "GPT2LMHeadModel")


def llama_config(tied=False, dtype="float32"):
    return _stamp({
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": 8,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,            # GQA: 2 query heads per kv head
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-5,                # non-default (1e-6)
        "rope_scaling": None,
        "rope_theta": 500.0,                 # non-default (10000)
        "tie_word_embeddings": tied,
        "use_cache": True,
        "vocab_size": 128,
    }, "LlamaForCausalLM", dtype)


def mistral_config():
    return _stamp({
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": 8,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
        "model_type": "mistral",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "sliding_window": 3,                 # query i sees keys i-2, i-1, i
        "tie_word_embeddings": False,
        "use_cache": True,
        "vocab_size": 128,
    }, "MistralForCausalLM")


def qwen2_config():
    return _stamp({
        "attention_dropout": 0.0,
        "bos_token_id": 126,
        "eos_token_id": 127,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
        "max_window_layers": 28,
        "model_type": "qwen2",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-6,
        "rope_scaling": None,
        "rope_theta": 1000000.0,
        "sliding_window": 64,                # ignored: use_sliding_window is false (and >= T anyway)
        "tie_word_embeddings": True,
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": 128,
    }, "Qwen2ForCausalLM")


def gemma_config():
    # tie_word_embeddings is absent on purpose: GemmaConfig's default (True) equals the base default,
    # so save_pretrained does not write it (as in google/gemma-2b's config.json); the model is tied.
    return _stamp({
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 2,
        "eos_token_id": 1,
        "head_dim": 16,                      # != hidden_size / heads (= 12)
        "hidden_act": "gelu_pytorch_tanh",
        "hidden_activation": "gelu_pytorch_tanh",
        "hidden_size": 48,
        "initializer_range": 0.02,
        "intermediate_size": 96,
        "max_position_embeddings": 64,
        "model_type": "gemma",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 1,            # MQA
        "pad_token_id": 0,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "use_cache": True,
        "vocab_size": 128,
    }, "GemmaForCausalLM")


def bert_config():
    return _stamp({
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 16,
        "model_type": "bert",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": 128,
    }, "BertForMaskedLM")


def marian_config():
    return _stamp({
        "activation_dropout": 0.0,
        "activation_function": "swish",
        "attention_dropout": 0.0,
        "d_model": 32,
        "decoder_attention_heads": 4,
        "decoder_ffn_dim": 64,
        "decoder_layerdrop": 0.0,
        "decoder_layers": 2,
        "decoder_start_token_id": 127,
        "decoder_vocab_size": 128,
        "dropout": 0.1,
        "encoder_attention_heads": 4,
        "encoder_ffn_dim": 64,
        "encoder_layerdrop": 0.0,
        "encoder_layers": 2,
        "eos_token_id": 0,
        "forced_eos_token_id": 0,
        "init_std": 0.02,
        "is_encoder_decoder": True,
        "max_position_embeddings": 16,
        "model_type": "marian",
        "num_hidden_layers": 2,
        "pad_token_id": 127,
        "scale_embedding": True,
        "share_encoder_decoder_embeddings": True,
        "use_cache": True,
        "vocab_size": 128,
    }, "MarianMTModel")


def deepseek_v2_config(q_lora_rank):
    # DeepSeek's own configuration_deepseek.DeepseekV2Config (trust_remote_code), all its keys.
    return _stamp({
        "attention_bias": False,
        "attention_dropout": 0.0,
        "auto_map": {
            "AutoConfig": "configuration_deepseek.DeepseekV2Config",
            "AutoModel": "modeling_deepseek.DeepseekV2Model",
            "AutoModelForCausalLM": "modeling_deepseek.DeepseekV2ForCausalLM",
        },
        "aux_loss_alpha": 0.001,
        "bos_token_id": 0,
        "eos_token_id": 1,
        "ep_size": 1,
        "first_k_dense_replace": 0,
        "hidden_act": "silu",
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "kv_lora_rank": 16,
        "max_position_embeddings": 64,
        "model_type": "deepseek_v2",
        "moe_intermediate_size": 32,
        "moe_layer_freq": 1,
        "n_group": None,
        "n_routed_experts": None,            # dense: every layer is DeepseekV2MLP(intermediate_size)
        "n_shared_experts": None,
        "norm_topk_prob": False,
        "num_attention_heads": 4,
        "num_experts_per_tok": None,
        "num_hidden_layers": 2,
        "num_key_value_heads": 4,
        "pretraining_tp": 1,
        "q_lora_rank": q_lora_rank,
        "qk_nope_head_dim": 8,
        "qk_rope_head_dim": 8,
        "rms_norm_eps": 1e-6,
        "rope_scaling": None,
        "rope_theta": 2000.0,
        "routed_scaling_factor": 1.0,
        "scoring_func": "softmax",
        "seq_aux": True,
        "tie_word_embeddings": False,
        "topk_group": None,
        "topk_method": "gready",
        "use_cache": True,
        "v_head_dim": 12,                    # != q head dim (16): pins the value width
        "vocab_size": 128,
    }, "DeepseekV2ForCausalLM")
