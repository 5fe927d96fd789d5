"""Independent re-derivations the generator checks its references against: the same models rebuilt
from torch.nn building blocks (nn.MultiheadAttention, nn.TransformerEncoderLayer / DecoderLayer,
nn.LayerNorm) with the Hugging Face weights mapped into them, and GQA rewritten as plain MHA.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def gpt2_torch_nn(P, cfg, ids):
    D, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    T = ids.shape[1]
    x = P["transformer.wte.weight"][ids] + P["transformer.wpe.weight"][:T]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for i in range(L):
        p = f"transformer.h.{i}."
        ln1 = nn.LayerNorm(D, eps=cfg["layer_norm_epsilon"])
        ln1.weight.data, ln1.bias.data = P[p + "ln_1.weight"], P[p + "ln_1.bias"]
        mha = nn.MultiheadAttention(D, H, batch_first=True)
        mha.in_proj_weight.data = P[p + "attn.c_attn.weight"].t().contiguous()
        mha.in_proj_bias.data = P[p + "attn.c_attn.bias"]
        mha.out_proj.weight.data = P[p + "attn.c_proj.weight"].t().contiguous()
        mha.out_proj.bias.data = P[p + "attn.c_proj.bias"]
        h = ln1(x)
        x = x + mha(h, h, h, attn_mask=mask, need_weights=False)[0]
        ln2 = nn.LayerNorm(D, eps=cfg["layer_norm_epsilon"])
        ln2.weight.data, ln2.bias.data = P[p + "ln_2.weight"], P[p + "ln_2.bias"]
        h = F.gelu(ln2(x) @ P[p + "mlp.c_fc.weight"] + P[p + "mlp.c_fc.bias"], approximate="tanh")
        x = x + h @ P[p + "mlp.c_proj.weight"] + P[p + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (D,), P["transformer.ln_f.weight"], P["transformer.ln_f.bias"], cfg["layer_norm_epsilon"])
    return x @ P["transformer.wte.weight"].t()


def mha_from_gqa(P, cfg):
    """Duplicate each kv head's rows so head h of an MHA model reads what GQA head h // n_rep reads."""
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = cfg.get("head_dim") or cfg["hidden_size"] // H
    n_rep = H // Hkv
    Q = dict(P)
    for k, t in P.items():
        if k.endswith(("self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.k_proj.bias",
                       "self_attn.v_proj.bias")):
            rows = t.view(Hkv, d, *t.shape[1:])
            Q[k] = rows.repeat_interleave(n_rep, dim=0).reshape(H * d, *t.shape[1:])
    if P["lm_head.weight"] is P["model.embed_tokens.weight"]:
        Q["lm_head.weight"] = Q["model.embed_tokens.weight"]
    c = dict(cfg)
    c["num_key_value_heads"] = H
    return Q, c


def bert_torch_nn(P, cfg, ids, tt, mask):
    D, H, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    T = ids.shape[1]
    x = (P["bert.embeddings.word_embeddings.weight"][ids] + P["bert.embeddings.token_type_embeddings.weight"][tt]
         + P["bert.embeddings.position_embeddings.weight"][:T])
    x = F.layer_norm(x, (D,), P["bert.embeddings.LayerNorm.weight"], P["bert.embeddings.LayerNorm.bias"], eps)
    with torch.enable_grad():  # PyTorch 1.13's no-grad fast path turns padded batches into nested tensors
        for i in range(cfg["num_hidden_layers"]):
            p = f"bert.encoder.layer.{i}."
            layer = nn.TransformerEncoderLayer(D, H, cfg["intermediate_size"], dropout=0.0, activation="gelu",
                                               layer_norm_eps=eps, batch_first=True, norm_first=False)
            layer.self_attn.in_proj_weight.data = torch.cat([P[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
            layer.self_attn.in_proj_bias.data = torch.cat([P[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            layer.self_attn.out_proj.weight.data = P[p + "attention.output.dense.weight"]
            layer.self_attn.out_proj.bias.data = P[p + "attention.output.dense.bias"]
            layer.norm1.weight.data, layer.norm1.bias.data = P[p + "attention.output.LayerNorm.weight"], P[p + "attention.output.LayerNorm.bias"]
            layer.linear1.weight.data, layer.linear1.bias.data = P[p + "intermediate.dense.weight"], P[p + "intermediate.dense.bias"]
            layer.linear2.weight.data, layer.linear2.bias.data = P[p + "output.dense.weight"], P[p + "output.dense.bias"]
            layer.norm2.weight.data, layer.norm2.bias.data = P[p + "output.LayerNorm.weight"], P[p + "output.LayerNorm.bias"]
            layer.eval()
            x = layer(x, src_key_padding_mask=~mask.bool()).detach()
    t = F.gelu(x @ P["cls.predictions.transform.dense.weight"].t() + P["cls.predictions.transform.dense.bias"])
    t = F.layer_norm(t, (D,), P["cls.predictions.transform.LayerNorm.weight"], P["cls.predictions.transform.LayerNorm.bias"], eps)
    return t @ P["bert.embeddings.word_embeddings.weight"].t() + P["cls.predictions.bias"]


def marian_torch_nn(P, Bf, cfg, src, dec):
    D, H = cfg["d_model"], cfg["encoder_attention_heads"]
    s = math.sqrt(D)

    def attn_weights(m, p):
        m.in_proj_weight.data = torch.cat([P[p + f"{n}_proj.weight"] for n in ("q", "k", "v")])
        m.in_proj_bias.data = torch.cat([P[p + f"{n}_proj.bias"] for n in ("q", "k", "v")])
        m.out_proj.weight.data, m.out_proj.bias.data = P[p + "out_proj.weight"], P[p + "out_proj.bias"]

    def norm_weights(m, p):
        m.weight.data, m.bias.data = P[p + ".weight"], P[p + ".bias"]

    x = P["model.shared.weight"][src] * s + P["model.encoder.embed_positions.weight"][: src.shape[1]]
    y = P["model.shared.weight"][dec] * s + P["model.decoder.embed_positions.weight"][: dec.shape[1]]
    with torch.enable_grad():
        for i in range(cfg["encoder_layers"]):
            p = f"model.encoder.layers.{i}."
            L = nn.TransformerEncoderLayer(D, H, cfg["encoder_ffn_dim"], 0.0, F.silu, batch_first=True)
            attn_weights(L.self_attn, p + "self_attn.")
            norm_weights(L.norm1, p + "self_attn_layer_norm")
            norm_weights(L.norm2, p + "final_layer_norm")
            L.linear1.weight.data, L.linear1.bias.data = P[p + "fc1.weight"], P[p + "fc1.bias"]
            L.linear2.weight.data, L.linear2.bias.data = P[p + "fc2.weight"], P[p + "fc2.bias"]
            x = L.eval()(x).detach()
        T = dec.shape[1]
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        for i in range(cfg["decoder_layers"]):
            p = f"model.decoder.layers.{i}."
            L = nn.TransformerDecoderLayer(D, H, cfg["decoder_ffn_dim"], 0.0, F.silu, batch_first=True)
            attn_weights(L.self_attn, p + "self_attn.")
            attn_weights(L.multihead_attn, p + "encoder_attn.")
            norm_weights(L.norm1, p + "self_attn_layer_norm")
            norm_weights(L.norm2, p + "encoder_attn_layer_norm")
            norm_weights(L.norm3, p + "final_layer_norm")
            L.linear1.weight.data, L.linear1.bias.data = P[p + "fc1.weight"], P[p + "fc1.bias"]
            L.linear2.weight.data, L.linear2.bias.data = P[p + "fc2.weight"], P[p + "fc2.bias"]
            y = L.eval()(y, x, tgt_mask=causal).detach()
    return y @ P["model.shared.weight"].t() + Bf["final_logits_bias"]
