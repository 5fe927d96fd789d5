"""Decoder-only references: GPT-2, the Llama family (Llama, Mistral, Qwen2, Gemma) and DeepSeek-V2.

Each family has `init_<family>(cfg, gen)` -> {HF parameter name: tensor} (tied names alias one tensor,
so counting unique tensors is `sum(p.numel() for p in model.parameters())`) and
`forward_<family>(P, cfg, ids, rec, conv)` -> logits, recording every hook through `rec`.

`conv` holds the conventions the family pins, at their Hugging Face values by default; the
generator flips each one to show the fixture's logits move by far more than the 1e-4 tolerance.
"""
import math

import torch

from .common import (ACT, apply_rope, attention, causal_allowed, conv1d, gelu_new, gemma_rms_norm,
                     layer_norm, linear, normal, rms_norm, rope_cos_sin, rotate_half)


# ══ GPT-2 (modeling_gpt2.py: GPT2LMHeadModel) ═══════════════════════════════════════════════════════

GPT2_CONV = {"act": "gelu_new", "eps": None}  # eps None = config's layer_norm_epsilon


def init_gpt2(cfg, gen):
    D, V, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_layer"]
    inner = cfg["n_inner"] or 4 * D
    P = {"transformer.wte.weight": normal(gen, (V, D), 0.5),
         "transformer.wpe.weight": normal(gen, (cfg["n_positions"], D), 0.3)}
    for i in range(L):
        p = f"transformer.h.{i}."
        P[p + "ln_1.weight"] = normal(gen, (D,), 0.2, 1.0)
        P[p + "ln_1.bias"] = normal(gen, (D,), 0.2)
        # Conv1D weights are stored [in, out]
        P[p + "attn.c_attn.weight"] = normal(gen, (D, 3 * D), 0.35)
        P[p + "attn.c_attn.bias"] = normal(gen, (3 * D,), 0.2)
        P[p + "attn.c_proj.weight"] = normal(gen, (D, D), 0.25)
        P[p + "attn.c_proj.bias"] = normal(gen, (D,), 0.2)
        P[p + "ln_2.weight"] = normal(gen, (D,), 0.2, 1.0)
        P[p + "ln_2.bias"] = normal(gen, (D,), 0.2)
        # MLP pre-activations centred near -2.5, where tanh-GELU and erf-GELU differ most relative to
        # their value (|diff| peaks at 4.7e-4 near |x| = 2.7): a wrong GELU moves the logits by ~1e-3
        P[p + "mlp.c_fc.weight"] = normal(gen, (D, inner), 0.15)
        P[p + "mlp.c_fc.bias"] = normal(gen, (inner,), 0.4, -2.5)
        P[p + "mlp.c_proj.weight"] = normal(gen, (inner, D), 2.0)
        P[p + "mlp.c_proj.bias"] = normal(gen, (D,), 0.2)
    P["transformer.ln_f.weight"] = normal(gen, (D,), 0.2, 1.0)
    P["transformer.ln_f.bias"] = normal(gen, (D,), 0.2)
    P["lm_head.weight"] = P["transformer.wte.weight"]  # tied (GPT2LMHeadModel._tied_weights_keys)
    return P


def forward_gpt2(P, cfg, ids, rec, conv=GPT2_CONV):
    D, H = cfg["n_embd"], cfg["n_head"]
    d = D // H
    eps = conv["eps"] if conv["eps"] is not None else cfg["layer_norm_epsilon"]
    act = ACT[conv["act"]]
    B, T = ids.shape
    tok = rec("hook_embed", P["transformer.wte.weight"][ids])
    pos = rec("hook_pos_embed", P["transformer.wpe.weight"][torch.arange(T)][None].expand(B, T, D))
    x = tok + pos
    allowed = causal_allowed(T, T)
    for i in range(cfg["n_layer"]):
        p, r = f"transformer.h.{i}.", rec.scoped(f"blocks.{i}.")
        r("hook_resid_pre", x)
        h = r("ln1.hook_normalized", layer_norm(x, P[p + "ln_1.weight"], P[p + "ln_1.bias"], eps))
        qkv = conv1d(h, P[p + "attn.c_attn.weight"], P[p + "attn.c_attn.bias"])
        q, k, v = qkv.split(D, dim=2)
        q = r("attn.hook_q", q.view(B, T, H, d))
        k = r("attn.hook_k", k.view(B, T, H, d))
        v = r("attn.hook_v", v.view(B, T, H, d))
        # GPT2Attention._attn: scores / sqrt(d_v) (scale_attn_weights), causal `bias` buffer, softmax
        pattern, z = attention(q, k, v, 1.0 / math.sqrt(d), allowed)
        r("attn.hook_pattern", pattern)
        r("attn.hook_z", z)
        a = r("hook_attn_out", conv1d(z.reshape(B, T, D), P[p + "attn.c_proj.weight"], P[p + "attn.c_proj.bias"]))
        x = r("hook_resid_mid", x + a)
        h = r("ln2.hook_normalized", layer_norm(x, P[p + "ln_2.weight"], P[p + "ln_2.bias"], eps))
        pre = r("mlp.hook_pre", conv1d(h, P[p + "mlp.c_fc.weight"], P[p + "mlp.c_fc.bias"]))
        post = r("mlp.hook_post", act(pre))
        m = r("hook_mlp_out", conv1d(post, P[p + "mlp.c_proj.weight"], P[p + "mlp.c_proj.bias"]))
        x = r("hook_resid_post", x + m)
    x = rec("ln_final.hook_normalized", layer_norm(x, P["transformer.ln_f.weight"], P["transformer.ln_f.bias"], eps))
    return linear(x, P["lm_head.weight"])


# ══ Llama family (modeling_llama / mistral / qwen2 / gemma) ═════════════════════════════════════════
#
# One reference with the family switches read from the config the way each HF class reads them:
#   gemma: GemmaRMSNorm (1 + w), embeddings * tensor(sqrt(hidden), dtype), hidden_activation, head_dim
#   qwen2: q/k/v biases (o without), mistral: sliding_window mask.

LLAMA_CONV = {"rope": "rotate_half", "rope_theta": None, "eps": None, "kv_group": "repeat",
              "window": "config", "gemma_norm": None, "embed_scale": None, "act": None, "qkv_bias": None}


def _family(cfg):
    return cfg["model_type"]


def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def init_llama(cfg, gen, embed_std=0.05, down_std=0.2):
    fam = _family(cfg)
    D, V, L, I = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    H, Hkv, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
    gemma = fam == "gemma"

    def norm_w(n):  # Gemma stores the gain zero-centred (applied as 1 + w)
        return normal(gen, (n,), 0.3) if gemma else normal(gen, (n,), 0.2, 1.0)

    P = {"model.embed_tokens.weight": normal(gen, (V, D), embed_std)}
    for i in range(L):
        p = f"model.layers.{i}."
        P[p + "input_layernorm.weight"] = norm_w(D)
        # q, k ~ unit size per element, so scores ~ N(0, 1): patterns spread, not one-hot
        P[p + "self_attn.q_proj.weight"] = normal(gen, (H * d, D), 1.2 / math.sqrt(D))
        P[p + "self_attn.k_proj.weight"] = normal(gen, (Hkv * d, D), 1.2 / math.sqrt(D))
        P[p + "self_attn.v_proj.weight"] = normal(gen, (Hkv * d, D), 0.3)
        if fam == "qwen2":
            P[p + "self_attn.q_proj.bias"] = normal(gen, (H * d,), 0.4)
            P[p + "self_attn.k_proj.bias"] = normal(gen, (Hkv * d,), 0.4)
            P[p + "self_attn.v_proj.bias"] = normal(gen, (Hkv * d,), 0.3)
        P[p + "self_attn.o_proj.weight"] = normal(gen, (D, H * d), 0.25)
        P[p + "post_attention_layernorm.weight"] = norm_w(D)
        P[p + "mlp.gate_proj.weight"] = normal(gen, (I, D), 0.3)
        P[p + "mlp.up_proj.weight"] = normal(gen, (I, D), 0.3)
        P[p + "mlp.down_proj.weight"] = normal(gen, (D, I), down_std)
    P["model.norm.weight"] = norm_w(D)
    if cfg.get("tie_word_embeddings", True):  # absent key = PretrainedConfig's default (True)
        P["lm_head.weight"] = P["model.embed_tokens.weight"]
    else:
        P["lm_head.weight"] = normal(gen, (V, D), 0.3)
    return P


def forward_llama(P, cfg, ids, rec, conv=LLAMA_CONV):
    fam = _family(cfg)
    D, H, Hkv, d = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
    gemma = conv["gemma_norm"] if conv["gemma_norm"] is not None else fam == "gemma"
    eps = conv["eps"] if conv["eps"] is not None else cfg["rms_norm_eps"]
    theta = conv["rope_theta"] if conv["rope_theta"] is not None else cfg["rope_theta"]
    if conv["act"] is not None:
        act_name = conv["act"]
    elif fam == "gemma":
        act_name = cfg["hidden_activation"]  # GemmaMLP uses hidden_activation
    else:
        act_name = cfg["hidden_act"]
    act = ACT[act_name]
    norm = gemma_rms_norm if gemma else rms_norm
    window = cfg.get("sliding_window") if fam == "mistral" else None
    if fam == "qwen2" and cfg.get("use_sliding_window"):
        raise NotImplementedError("Qwen2 sliding window layers are not part of these fixtures")
    if conv["window"] != "config":
        window = conv["window"]
    qkv_bias = conv["qkv_bias"] if conv["qkv_bias"] is not None else fam == "qwen2"
    B, T = ids.shape

    e = P["model.embed_tokens.weight"][ids]
    scale_embed = conv["embed_scale"] if conv["embed_scale"] is not None else fam == "gemma"
    if scale_embed:
        # GemmaModel: normalizer = torch.tensor(hidden_size**0.5, dtype=hidden_states.dtype)
        e = e * torch.tensor(cfg["hidden_size"] ** 0.5, dtype=e.dtype)
    x = rec("hook_embed", e)
    cos, sin = rope_cos_sin(d, theta, torch.arange(T))
    allowed = causal_allowed(T, T, window)
    for i in range(cfg["num_hidden_layers"]):
        p, r = f"model.layers.{i}.", rec.scoped(f"blocks.{i}.")
        r("hook_resid_pre", x)
        h = r("ln1.hook_normalized", norm(x, P[p + "input_layernorm.weight"], eps))
        bq = P.get(p + "self_attn.q_proj.bias") if qkv_bias else None
        bk = P.get(p + "self_attn.k_proj.bias") if qkv_bias else None
        bv = P.get(p + "self_attn.v_proj.bias") if qkv_bias else None
        q = r("attn.hook_q", linear(h, P[p + "self_attn.q_proj.weight"], bq).view(B, T, H, d))
        k = r("attn.hook_k", linear(h, P[p + "self_attn.k_proj.weight"], bk).view(B, T, Hkv, d))
        v = r("attn.hook_v", linear(h, P[p + "self_attn.v_proj.weight"], bv).view(B, T, Hkv, d))
        if conv["rope"] == "rotate_half":
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        else:  # the wrong (GPT-J interleaved) convention, for the sensitivity check
            q, k = _rope_interleaved(q, theta, T), _rope_interleaved(k, theta, T)
        r("attn.hook_rot_q", q)
        r("attn.hook_rot_k", k)
        pattern, z = attention(q, k, v, d ** -0.5, allowed, conv["kv_group"])
        r("attn.hook_pattern", pattern)
        r("attn.hook_z", z)
        a = r("hook_attn_out", linear(z.reshape(B, T, H * d), P[p + "self_attn.o_proj.weight"]))
        x = r("hook_resid_mid", x + a)
        h = r("ln2.hook_normalized", norm(x, P[p + "post_attention_layernorm.weight"], eps))
        gate = r("mlp.hook_pre", linear(h, P[p + "mlp.gate_proj.weight"]))
        up = r("mlp.hook_pre_linear", linear(h, P[p + "mlp.up_proj.weight"]))
        post = r("mlp.hook_post", act(gate) * up)
        m = r("hook_mlp_out", linear(post, P[p + "mlp.down_proj.weight"]))
        x = r("hook_resid_post", x + m)
    x = rec("ln_final.hook_normalized", norm(x, P["model.norm.weight"], eps))
    return linear(x, P["lm_head.weight"]).float()


def _rope_interleaved(x, theta, T):
    """GPT-J / Meta-checkpoint layout: pairs (2k, 2k+1). Only used to show the fixture tells them apart."""
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    ang = torch.outer(torch.arange(T).float(), inv)
    c, s = ang.cos()[None, :, None, :], ang.sin()[None, :, None, :]
    ev, od = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = ev * c - od * s
    out[..., 1::2] = ev * s + od * c
    return out


# ══ DeepSeek-V2 (DeepSeek's modeling_deepseek.py, loaded with trust_remote_code) ═════════════════════

DSV2_CONV = {"deinterleave": True, "latent_eps": 1e-6, "softmax_scale": None}


def init_deepseek_v2(cfg, gen):
    D, V, L, I = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    H = cfg["num_attention_heads"]
    nope, rope, vd = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    qd, kvr, qr = nope + rope, cfg["kv_lora_rank"], cfg["q_lora_rank"]
    assert cfg["n_routed_experts"] is None, "dense DeepSeek-V2 only"
    P = {"model.embed_tokens.weight": normal(gen, (V, D), 0.05)}
    for i in range(L):
        p = f"model.layers.{i}."
        P[p + "input_layernorm.weight"] = normal(gen, (D,), 0.2, 1.0)
        if qr is None:
            P[p + "self_attn.q_proj.weight"] = normal(gen, (H * qd, D), 0.35)
        else:
            P[p + "self_attn.q_a_proj.weight"] = normal(gen, (qr, D), 0.3)
            P[p + "self_attn.q_a_layernorm.weight"] = normal(gen, (qr,), 0.2, 1.0)
            P[p + "self_attn.q_b_proj.weight"] = normal(gen, (H * qd, qr), 0.35)
        P[p + "self_attn.kv_a_proj_with_mqa.weight"] = normal(gen, (kvr + rope, D), 0.3)
        P[p + "self_attn.kv_a_layernorm.weight"] = normal(gen, (kvr,), 0.2, 1.0)
        P[p + "self_attn.kv_b_proj.weight"] = normal(gen, (H * (nope + vd), kvr), 0.35)
        P[p + "self_attn.o_proj.weight"] = normal(gen, (D, H * vd), 0.25)
        P[p + "post_attention_layernorm.weight"] = normal(gen, (D,), 0.2, 1.0)
        P[p + "mlp.gate_proj.weight"] = normal(gen, (I, D), 0.3)
        P[p + "mlp.up_proj.weight"] = normal(gen, (I, D), 0.3)
        P[p + "mlp.down_proj.weight"] = normal(gen, (D, I), 0.2)
    P["model.norm.weight"] = normal(gen, (D,), 0.2, 1.0)
    P["lm_head.weight"] = normal(gen, (V, D), 0.3)
    return P


def deinterleave(x):
    """modeling_deepseek.apply_rotary_pos_emb's first step:
    x.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d) -> [x0, x2, x4, ..., x1, x3, ...]."""
    sh = x.shape
    return x.reshape(*sh[:-1], sh[-1] // 2, 2).transpose(-1, -2).reshape(sh)


def mla_attention(P, p, cfg, h, r, cos, sin, allowed, conv=DSV2_CONV):
    """DeepseekV2Attention.forward (eager), recording the hooks. h: normed input [B, T, D]."""
    B, T, _ = h.shape
    H = cfg["num_attention_heads"]
    nope, rope, vd = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    qd, kvr = nope + rope, cfg["kv_lora_rank"]
    leps = conv["latent_eps"]
    if cfg["q_lora_rank"] is None:
        q = linear(h, P[p + "self_attn.q_proj.weight"])
    else:  # q_a_layernorm = DeepseekV2RMSNorm(q_lora_rank): default eps 1e-6, not config.rms_norm_eps
        qa = rms_norm(linear(h, P[p + "self_attn.q_a_proj.weight"]), P[p + "self_attn.q_a_layernorm.weight"], leps)
        q = linear(qa, P[p + "self_attn.q_b_proj.weight"])
    q = r("attn.hook_q", q.view(B, T, H, qd))
    q_nope, q_pe = q.split([nope, rope], dim=-1)
    ckv = linear(h, P[p + "self_attn.kv_a_proj_with_mqa.weight"])
    c, k_pe = ckv.split([kvr, rope], dim=-1)
    k_pe = k_pe.view(B, T, 1, rope)
    c = r("attn.hook_kv_latent", rms_norm(c, P[p + "self_attn.kv_a_layernorm.weight"], leps))
    kv = linear(c, P[p + "self_attn.kv_b_proj.weight"]).view(B, T, H, nope + vd)
    k_nope, v = kv.split([nope, vd], dim=-1)
    r("attn.hook_v", v)
    if conv["deinterleave"]:
        q_pe, k_pe = deinterleave(q_pe), deinterleave(k_pe)
    q_pe, k_pe = apply_rope(q_pe, cos, sin), apply_rope(k_pe, cos, sin)
    query = r("attn.hook_rot_q", torch.cat([q_nope, q_pe], dim=-1))
    r("attn.hook_rot_k", k_pe)
    key = torch.cat([k_nope, k_pe.expand(B, T, H, rope)], dim=-1)
    scale = conv["softmax_scale"] if conv["softmax_scale"] is not None else qd ** (-0.5)
    pattern, z = attention(query, key, v, scale, allowed)
    r("attn.hook_pattern", pattern)
    r("attn.hook_z", z)
    return linear(z.reshape(B, T, H * vd), P[p + "self_attn.o_proj.weight"])


def forward_deepseek_v2(P, cfg, ids, rec, conv=DSV2_CONV):
    B, T = ids.shape
    eps = cfg["rms_norm_eps"]
    assert cfg.get("rope_scaling") is None, "no rope_scaling (yarn mscale) in these fixtures"
    x = rec("hook_embed", P["model.embed_tokens.weight"][ids])
    # DeepseekV2RotaryEmbedding: cos/sin cached over max_position_embeddings in F32, indexed by position
    cos_all, sin_all = rope_cos_sin(cfg["qk_rope_head_dim"], cfg["rope_theta"], torch.arange(cfg["max_position_embeddings"]))
    cos, sin = cos_all[:T], sin_all[:T]
    allowed = causal_allowed(T, T)
    act = ACT[cfg["hidden_act"]]
    for i in range(cfg["num_hidden_layers"]):
        p, r = f"model.layers.{i}.", rec.scoped(f"blocks.{i}.")
        r("hook_resid_pre", x)
        h = r("ln1.hook_normalized", rms_norm(x, P[p + "input_layernorm.weight"], eps))
        a = r("hook_attn_out", mla_attention(P, p, cfg, h, r, cos, sin, allowed, conv))
        x = r("hook_resid_mid", x + a)
        h = r("ln2.hook_normalized", rms_norm(x, P[p + "post_attention_layernorm.weight"], eps))
        gate = r("mlp.hook_pre", linear(h, P[p + "mlp.gate_proj.weight"]))
        up = r("mlp.hook_pre_linear", linear(h, P[p + "mlp.up_proj.weight"]))
        post = r("mlp.hook_post", act(gate) * up)
        m = r("hook_mlp_out", linear(post, P[p + "mlp.down_proj.weight"]))
        x = r("hook_resid_post", x + m)
    x = rec("ln_final.hook_normalized", rms_norm(x, P["model.norm.weight"], eps))
    return linear(x, P["lm_head.weight"]).float()


def mla_absorbed_logits(P, cfg, ids):
    """Independent re-derivation of MLA for the checks: the "absorbed" form DeepSeek describes, where
    W_UK is folded into the query (scores = (q_nope W_UK^T) . c + q_pe . k_pe) and W_UV after the
    pattern (z = (pattern . c) W_UV^T); RoPE done as complex rotation of interleaved pairs (2k, 2k+1).
    No hook code is shared with forward_deepseek_v2 beyond the norms and projections."""
    B, T = ids.shape
    H = cfg["num_attention_heads"]
    nope, rope, vd, kvr = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"], cfg["kv_lora_rank"]
    eps = cfg["rms_norm_eps"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, rope, 2).float() / rope))
    rot = torch.polar(torch.ones(T, rope // 2), torch.outer(torch.arange(T).float(), inv))  # [T, rope/2]

    def crot(x):  # x [..., T, n, rope] pairs (2k, 2k+1) as complex
        xc = torch.view_as_complex(x.float().reshape(*x.shape[:-1], rope // 2, 2).contiguous())
        return xc * rot[:, None, :]

    x = P["model.embed_tokens.weight"][ids]
    mask = torch.ones(T, T).tril().bool()
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, P[p + "input_layernorm.weight"], eps)
        if cfg["q_lora_rank"] is None:
            q = h @ P[p + "self_attn.q_proj.weight"].T
        else:
            q = rms_norm(h @ P[p + "self_attn.q_a_proj.weight"].T, P[p + "self_attn.q_a_layernorm.weight"], 1e-6) \
                @ P[p + "self_attn.q_b_proj.weight"].T
        q = q.view(B, T, H, nope + rope)
        ckv = h @ P[p + "self_attn.kv_a_proj_with_mqa.weight"].T
        c = rms_norm(ckv[..., :kvr], P[p + "self_attn.kv_a_layernorm.weight"], 1e-6)      # [B, T, kvr]
        wkv = P[p + "self_attn.kv_b_proj.weight"].view(H, nope + vd, kvr)
        w_uk, w_uv = wkv[:, :nope], wkv[:, nope:]                                         # [H, nope|vd, kvr]
        q_lat = torch.einsum("bthn,hnc->bthc", q[..., :nope], w_uk)                       # absorbed query
        s_nope = torch.einsum("bthc,bsc->bhts", q_lat, c)
        qr = crot(q[..., nope:])                                                          # [B, T, H, rope/2]
        kr = crot(ckv[..., kvr:].view(B, T, 1, rope))[:, :, 0]                            # [B, T, rope/2]
        s_rope = torch.einsum("bthr,bsr->bhts", qr, kr.conj()).real
        s = (s_nope + s_rope) * (nope + rope) ** -0.5
        pat = s.masked_fill(~mask, float("-inf")).softmax(-1)
        z = torch.einsum("bhts,bsc,hvc->bthv", pat, c, w_uv)
        x = x + z.reshape(B, T, H * vd) @ P[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, P[p + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(h @ P[p + "mlp.gate_proj.weight"].T) * (h @ P[p + "mlp.up_proj.weight"].T)
        x = x + g @ P[p + "mlp.down_proj.weight"].T
    return rms_norm(x, P["model.norm.weight"], eps) @ P["lm_head.weight"].T
