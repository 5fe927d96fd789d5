"""Post-norm references: BERT (modeling_bert.py: BertForMaskedLM) and Marian (modeling_marian.py:
MarianMTModel). Same contract as decoders.py: init_* -> {HF name: tensor}, forward_* records hooks.

Post-norm hook placement (both families): hook_resid_mid = x + attn_out BEFORE the norm,
ln1.hook_normalized = norm(resid_mid) (the residual the MLP adds to), hook_resid_post = ln1 + mlp_out
before the last norm, and the block output is the last norm's hook_normalized.
"""
import math

import numpy as np
import torch

from .common import ACT, attention, causal_allowed, layer_norm, linear, normal


# ══ BERT ══════════════════════════════════════════════════════════════════════════════════════════

BERT_CONV = {"act": None, "eps": None, "use_mask": True}


def init_bert(cfg, gen):
    D, V, L, I = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    P = {"bert.embeddings.word_embeddings.weight": normal(gen, (V, D), 0.5),
         "bert.embeddings.position_embeddings.weight": normal(gen, (cfg["max_position_embeddings"], D), 0.4),
         "bert.embeddings.token_type_embeddings.weight": normal(gen, (cfg["type_vocab_size"], D), 0.4),
         "bert.embeddings.LayerNorm.weight": normal(gen, (D,), 0.2, 1.0),
         "bert.embeddings.LayerNorm.bias": normal(gen, (D,), 0.2)}
    for i in range(L):
        p = f"bert.encoder.layer.{i}."
        for n in ("query", "key", "value"):
            P[p + f"attention.self.{n}.weight"] = normal(gen, (D, D), 0.35)
            P[p + f"attention.self.{n}.bias"] = normal(gen, (D,), 0.2)
        P[p + "attention.output.dense.weight"] = normal(gen, (D, D), 0.25)
        P[p + "attention.output.dense.bias"] = normal(gen, (D,), 0.2)
        P[p + "attention.output.LayerNorm.weight"] = normal(gen, (D,), 0.2, 1.0)
        P[p + "attention.output.LayerNorm.bias"] = normal(gen, (D,), 0.2)
        # pre-activations centred near -2.5, where erf-GELU and tanh-GELU differ most relative to
        # their value, and a larger output projection: a wrong GELU moves the logits by ~1e-3
        P[p + "intermediate.dense.weight"] = normal(gen, (I, D), 0.15)
        P[p + "intermediate.dense.bias"] = normal(gen, (I,), 0.4, -2.5)
        P[p + "output.dense.weight"] = normal(gen, (D, I), 2.0)
        P[p + "output.dense.bias"] = normal(gen, (D,), 0.2)
        P[p + "output.LayerNorm.weight"] = normal(gen, (D,), 0.2, 1.0)
        P[p + "output.LayerNorm.bias"] = normal(gen, (D,), 0.2)
    P["cls.predictions.transform.dense.weight"] = normal(gen, (D, D), 0.3)
    P["cls.predictions.transform.dense.bias"] = normal(gen, (D,), 0.2)
    P["cls.predictions.transform.LayerNorm.weight"] = normal(gen, (D,), 0.2, 1.0)
    P["cls.predictions.transform.LayerNorm.bias"] = normal(gen, (D,), 0.2)
    P["cls.predictions.bias"] = normal(gen, (V,), 0.5)
    # BertLMPredictionHead: decoder.bias IS predictions.bias; decoder.weight tied to the word embeddings
    P["cls.predictions.decoder.bias"] = P["cls.predictions.bias"]
    P["cls.predictions.decoder.weight"] = P["bert.embeddings.word_embeddings.weight"]
    return P


def init_bert_pooler(cfg, gen):
    """BertPooler weights: in a pretrained BERT file, but BertForMaskedLM has no pooler
    (BertModel(config, add_pooling_layer=False)), so they are neither used nor counted."""
    D = cfg["hidden_size"]
    return {"bert.pooler.dense.weight": normal(gen, (D, D), 0.3), "bert.pooler.dense.bias": normal(gen, (D,), 0.2)}


def forward_bert(P, cfg, ids, token_type_ids, attention_mask, rec, conv=BERT_CONV):
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    d = D // H
    eps = conv["eps"] if conv["eps"] is not None else cfg["layer_norm_eps"]
    act = ACT[conv["act"] or cfg["hidden_act"]]
    B, T = ids.shape
    we = rec("hook_embed", P["bert.embeddings.word_embeddings.weight"][ids])
    te = rec("hook_token_type_embed", P["bert.embeddings.token_type_embeddings.weight"][token_type_ids])
    # position_embedding_type "absolute": position_ids = arange(T), not derived from the mask
    pe = rec("hook_pos_embed", P["bert.embeddings.position_embeddings.weight"][torch.arange(T)][None].expand(B, T, D))
    # BertEmbeddings: (inputs_embeds + token_type_embeddings) + position_embeddings, then LayerNorm
    x = layer_norm(we + te + pe, P["bert.embeddings.LayerNorm.weight"], P["bert.embeddings.LayerNorm.bias"], eps)
    # get_extended_attention_mask: (1 - mask) * finfo.min added to the scores; keys only
    allowed = attention_mask.bool()[:, None, None, :] if conv["use_mask"] else None
    for i in range(cfg["num_hidden_layers"]):
        p, r = f"bert.encoder.layer.{i}.", rec.scoped(f"blocks.{i}.")
        r("hook_resid_pre", x)
        q = r("attn.hook_q", linear(x, P[p + "attention.self.query.weight"], P[p + "attention.self.query.bias"]).view(B, T, H, d))
        k = r("attn.hook_k", linear(x, P[p + "attention.self.key.weight"], P[p + "attention.self.key.bias"]).view(B, T, H, d))
        v = r("attn.hook_v", linear(x, P[p + "attention.self.value.weight"], P[p + "attention.self.value.bias"]).view(B, T, H, d))
        pattern, z = attention(q, k, v, 1.0 / math.sqrt(d), allowed)
        r("attn.hook_pattern", pattern)
        r("attn.hook_z", z)
        a = r("hook_attn_out", linear(z.reshape(B, T, D), P[p + "attention.output.dense.weight"], P[p + "attention.output.dense.bias"]))
        mid = r("hook_resid_mid", x + a)
        x = r("ln1.hook_normalized", layer_norm(mid, P[p + "attention.output.LayerNorm.weight"], P[p + "attention.output.LayerNorm.bias"], eps))
        pre = r("mlp.hook_pre", linear(x, P[p + "intermediate.dense.weight"], P[p + "intermediate.dense.bias"]))
        post = r("mlp.hook_post", act(pre))
        m = r("hook_mlp_out", linear(post, P[p + "output.dense.weight"], P[p + "output.dense.bias"]))
        res = r("hook_resid_post", x + m)
        x = r("ln2.hook_normalized", layer_norm(res, P[p + "output.LayerNorm.weight"], P[p + "output.LayerNorm.bias"], eps))
    # BertPredictionHeadTransform: dense -> ACT2FN[hidden_act] -> LayerNorm(layer_norm_eps); decoder + bias
    t = act(linear(x, P["cls.predictions.transform.dense.weight"], P["cls.predictions.transform.dense.bias"]))
    t = layer_norm(t, P["cls.predictions.transform.LayerNorm.weight"], P["cls.predictions.transform.LayerNorm.bias"], eps)
    return linear(t, P["cls.predictions.decoder.weight"], P["cls.predictions.decoder.bias"])


# ══ Marian ════════════════════════════════════════════════════════════════════════════════════════

MARIAN_CONV = {"pos_layout": "marian", "scale": None, "final_bias": True, "act": None}


def marian_sinusoidal(n_pos, dim, layout="marian"):
    """MarianSinusoidalPositionalEmbedding._init_weight: angles in float64 numpy,
    pos / 10000^(2*(j//2)/dim); sin of the even-j angles in the first half, cos of the odd-j angles in
    the second half (not interleaved); then torch.FloatTensor."""
    enc = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    out = torch.zeros(n_pos, dim)
    if layout == "marian":
        sentinel = dim // 2 if dim % 2 == 0 else dim // 2 + 1
        out[:, 0:sentinel] = torch.FloatTensor(np.sin(enc[:, 0::2]))
        out[:, sentinel:] = torch.FloatTensor(np.cos(enc[:, 1::2]))
    else:  # interleaved sin/cos (fairseq/"Attention is all you need" tables), for the sensitivity check
        out[:, 0::2] = torch.FloatTensor(np.sin(enc[:, 0::2]))
        out[:, 1::2] = torch.FloatTensor(np.cos(enc[:, 1::2]))
    return out


def init_marian(cfg, gen):
    D, V = cfg["d_model"], cfg["vocab_size"]
    assert cfg["share_encoder_decoder_embeddings"] and cfg["decoder_vocab_size"] == V
    P = {"model.shared.weight": normal(gen, (V, D), 0.3)}
    P["model.encoder.embed_tokens.weight"] = P["model.shared.weight"]
    P["model.decoder.embed_tokens.weight"] = P["model.shared.weight"]
    P["lm_head.weight"] = P["model.shared.weight"]
    # separate Parameters with identical sinusoidal contents (requires_grad False, still parameters)
    P["model.encoder.embed_positions.weight"] = marian_sinusoidal(cfg["max_position_embeddings"], D)
    P["model.decoder.embed_positions.weight"] = marian_sinusoidal(cfg["max_position_embeddings"], D)

    def attn(p):
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            P[p + n + ".weight"] = normal(gen, (D, D), 0.35 if n != "out_proj" else 0.25)
            P[p + n + ".bias"] = normal(gen, (D,), 0.2)

    def ln(p):
        P[p + ".weight"] = normal(gen, (D,), 0.2, 1.0)
        P[p + ".bias"] = normal(gen, (D,), 0.2)

    def ffn(p, F):
        P[p + "fc1.weight"] = normal(gen, (F, D), 0.35)
        P[p + "fc1.bias"] = normal(gen, (F,), 0.3)
        P[p + "fc2.weight"] = normal(gen, (D, F), 0.2)
        P[p + "fc2.bias"] = normal(gen, (D,), 0.2)

    for i in range(cfg["encoder_layers"]):
        p = f"model.encoder.layers.{i}."
        attn(p + "self_attn.")
        ln(p + "self_attn_layer_norm")
        ffn(p, cfg["encoder_ffn_dim"])
        ln(p + "final_layer_norm")
    for i in range(cfg["decoder_layers"]):
        p = f"model.decoder.layers.{i}."
        attn(p + "self_attn.")
        ln(p + "self_attn_layer_norm")
        attn(p + "encoder_attn.")
        ln(p + "encoder_attn_layer_norm")
        ffn(p, cfg["decoder_ffn_dim"])
        ln(p + "final_layer_norm")
    return P


def init_marian_buffers(cfg, gen):
    """final_logits_bias: a registered (persistent) buffer [1, vocab]; saved, not a parameter."""
    return {"final_logits_bias": normal(gen, (1, cfg["vocab_size"]), 0.5)}


def _marian_attn(P, p, xq, xkv, H, allowed, r, name):
    """MarianAttention (= BartAttention): q_proj(x) * head_dim^-0.5, then q k^T, mask, softmax."""
    B, Tq, D = xq.shape
    Tk = xkv.shape[1]
    d = D // H
    q = r(f"{name}.hook_q", linear(xq, P[p + "q_proj.weight"], P[p + "q_proj.bias"]).view(B, Tq, H, d))
    k = r(f"{name}.hook_k", linear(xkv, P[p + "k_proj.weight"], P[p + "k_proj.bias"]).view(B, Tk, H, d))
    v = r(f"{name}.hook_v", linear(xkv, P[p + "v_proj.weight"], P[p + "v_proj.bias"]).view(B, Tk, H, d))
    pattern, z = attention(q * (d ** -0.5), k, v, 1.0, allowed)
    r(f"{name}.hook_pattern", pattern)
    r(f"{name}.hook_z", z)
    return linear(z.reshape(B, Tq, D), P[p + "out_proj.weight"], P[p + "out_proj.bias"])


def forward_marian(P, buffers, cfg, ids, dec_ids, rec, conv=MARIAN_CONV):
    D = cfg["d_model"]
    act = ACT[conv["act"] or cfg["activation_function"]]
    scale_on = conv["scale"] if conv["scale"] is not None else cfg["scale_embedding"]
    embed_scale = math.sqrt(D) if scale_on else 1.0  # a python float (MarianEncoder/Decoder.embed_scale)
    eps = 1e-5  # nn.LayerNorm default: Marian's config has no layer-norm epsilon

    def pos_table(which):
        if conv["pos_layout"] == "marian":
            return P[f"model.{which}.embed_positions.weight"]
        return marian_sinusoidal(cfg["max_position_embeddings"], D, "interleaved")

    def ln(x, p):
        return layer_norm(x, P[p + ".weight"], P[p + ".bias"], eps)

    # encoder
    B, S = ids.shape
    er = rec.scoped("encoder.")
    x = er("hook_embed", P["model.encoder.embed_tokens.weight"][ids] * embed_scale)
    x = x + er("hook_pos_embed", pos_table("encoder")[torch.arange(S)][None].expand(B, S, D))
    for i in range(cfg["encoder_layers"]):
        p, r = f"model.encoder.layers.{i}.", er.scoped(f"blocks.{i}.")
        r("hook_resid_pre", x)
        a = r("hook_attn_out", _marian_attn(P, p + "self_attn.", x, x, cfg["encoder_attention_heads"], None, r, "attn"))
        mid = r("hook_resid_mid", x + a)
        x = r("ln1.hook_normalized", ln(mid, p + "self_attn_layer_norm"))
        pre = r("mlp.hook_pre", linear(x, P[p + "fc1.weight"], P[p + "fc1.bias"]))
        post = r("mlp.hook_post", act(pre))
        m = r("hook_mlp_out", linear(post, P[p + "fc2.weight"], P[p + "fc2.bias"]))
        res = r("hook_resid_post", x + m)
        x = r("ln2.hook_normalized", ln(res, p + "final_layer_norm"))
    enc = x  # Marian has no final encoder layer norm

    # decoder
    _, T = dec_ids.shape
    dr = rec.scoped("decoder.")
    y = dr("hook_embed", P["model.decoder.embed_tokens.weight"][dec_ids] * embed_scale)
    y = y + dr("hook_pos_embed", pos_table("decoder")[torch.arange(T)][None].expand(B, T, D))
    allowed = causal_allowed(T, T)
    for i in range(cfg["decoder_layers"]):
        p, r = f"model.decoder.layers.{i}.", dr.scoped(f"blocks.{i}.")
        r("hook_resid_pre", y)
        a = r("hook_attn_out", _marian_attn(P, p + "self_attn.", y, y, cfg["decoder_attention_heads"], allowed, r, "attn"))
        mid = r("hook_resid_mid", y + a)
        y = r("ln1.hook_normalized", ln(mid, p + "self_attn_layer_norm"))
        c = r("hook_cross_attn_out", _marian_attn(P, p + "encoder_attn.", y, enc, cfg["decoder_attention_heads"], None, r, "cross_attn"))
        midc = r("hook_resid_mid_cross", y + c)
        y = r("ln2.hook_normalized", ln(midc, p + "encoder_attn_layer_norm"))
        pre = r("mlp.hook_pre", linear(y, P[p + "fc1.weight"], P[p + "fc1.bias"]))
        post = r("mlp.hook_post", act(pre))
        m = r("hook_mlp_out", linear(post, P[p + "fc2.weight"], P[p + "fc2.bias"]))
        res = r("hook_resid_post", y + m)
        y = r("ln3.hook_normalized", ln(res, p + "final_layer_norm"))
    logits = linear(y, P["lm_head.weight"])
    if conv["final_bias"]:
        logits = logits + buffers["final_logits_bias"]
    return logits
