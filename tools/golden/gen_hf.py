#!/usr/bin/env python3
"""Golden reference fixtures for Hugging Face model folders (issue 5's proof).

Run with the system interpreter that has PyTorch 1.13 (no transformers / safetensors / tokenizers
package is needed or used):

    /usr/bin/python3 tools/golden/gen_hf.py            # rewrite test/fixtures/hf/
    /usr/bin/python3 tools/golden/gen_hf.py --check    # regenerate in memory, compare with the files
    /work/venv/bin/python tools/golden/gen_hf.py --check   # the same, and cross-checked against transformers

When the interpreter has transformers (and safetensors), every case is also loaded with the real
transformers class its config names and must give the same logits within fp32 noise
(hf_ref/transformers_check.py; versions and agreement are recorded in tools/golden/HF.md).

Writes test/fixtures/hf/<case>/ with
    config.json            as save_pretrained writes it (transformers 4.46 key set; see hf_ref/configs.py)
    model.safetensors      the weights under the real Hugging Face tensor names (tied copies dropped
                           as save_pretrained drops them)
    input.json             input_ids (+ attention_mask, token_type_ids, decoder_input_ids), PyTorch's
                           num_parameters, notes; text + tokens where a tokenizer.json is present
    expected.safetensors   F32: `logits` and every intermediate under its hook name, batch first
    tokenizer.json, tokenizer_config.json   (gpt2, llama)

The references are compact re-implementations of each family's published modeling code (see
tools/golden/HF.md for what was read and what each case pins). Each case also proves its fixture:
every convention it pins is flipped and the logits must move by more than 1e-3 relative (10x the
engine's tolerance), and an independent re-derivation (GQA as duplicated-head MHA, torch.nn
attention/encoder layers, MLA in absorbed form, ...) must agree to 1e-5.
"""
import argparse
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hf_ref import configs  # noqa: E402
from hf_ref.common import (NullRecorder, Recorder, count_parameters, read_safetensors, rel_err,  # noqa: E402
                           rounded, write_config, write_json, write_safetensors)
from hf_ref.crosscheck import bert_torch_nn, gpt2_torch_nn, marian_torch_nn, mha_from_gqa  # noqa: E402
from hf_ref.decoders import (DSV2_CONV, GPT2_CONV, LLAMA_CONV, forward_deepseek_v2, forward_gpt2,  # noqa: E402
                             forward_llama, init_deepseek_v2, init_gpt2, init_llama, mla_absorbed_logits)
from hf_ref.encoders import (BERT_CONV, MARIAN_CONV, forward_bert, forward_marian, init_bert,  # noqa: E402
                             init_bert_pooler, init_marian, init_marian_buffers)
from hf_ref.tokenizers_json import build_gpt2_tokenizer, build_llama_tokenizer, encode_gpt2, encode_llama  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "hf")
FLIP_MIN = 1e-3   # a flipped convention must move the logits by more than this (relative to max |logit|)
CHECK_TOL = 1e-5  # independent re-derivations must agree to this

torch.set_grad_enabled(False)

CORPUS = ("The cat sat on the mat. The dog sat on the log. The cat and the dog ate the rat. "
          "A cat is on the mat and a dog is on the log; the rat sat on the cat. ") * 3 + (
    "Once upon a time there was a small model that could count tokens, heads and layers. "
    "It read every weight from a file, turned the numbers over one by one, and wrote down what "
    "each layer computed: the keys, the queries, the values and the patterns of attention. "
    "When the numbers matched those of the reference to the last digit, the engineers were happy, "
    "and the cat went back to sleep on the warm mat by the window.")


class Case:
    def __init__(self, name, description):
        self.name = name
        self.description = description
        self.config = None
        self.weights = {}          # name -> tensor as stored in model.safetensors
        self.input = {}
        self.expected = {}
        self.json_files = {}       # extra json files (tokenizer.json, tokenizer_config.json)
        self.report = []

    def flip(self, base, label, logits):
        r = rel_err(logits, base)
        assert r > FLIP_MIN, f"{self.name}: flipping '{label}' moves the logits by only {r:.2e}"
        self.report.append(f"flip {label}: logits move {r:.2e}")

    def check(self, label, a, b, tol=CHECK_TOL):
        r = rel_err(a, b)
        assert r < tol, f"{self.name}: check '{label}' failed ({r:.2e})"
        self.report.append(f"check {label}: agrees to {r:.1e}")

    def record(self, fn):
        rec = Recorder()
        logits = fn(rec)
        rec.store["logits"] = logits.detach().float().contiguous().clone()
        self.expected = rec.store
        # attention must be spread, not one-hot, for the fixture to pin score-level conventions
        tops = [t.max(-1).values.mean().item() for k, t in rec.store.items() if k.endswith("hook_pattern")]
        self.report.append(f"attention: mean top probability per row {sum(tops) / len(tops):.2f}")
        return logits


def ids_gen(seed, shape, lo, hi):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(lo, hi, shape, generator=g)


def saved(P, drop=(), prefix_strip=None):
    """The state dict as save_pretrained writes it: tied duplicates dropped (their names listed in
    `drop`, as `_tied_weights_keys`), optional prefix removed."""
    out = {}
    for k, t in P.items():
        if k in drop:
            continue
        name = k[len(prefix_strip):] if prefix_strip and k.startswith(prefix_strip) else k
        out[name] = t
    return out


def with_dtype(weights, dtype):
    return {k: t.to(dtype) for k, t in weights.items()}


# ══ GPT-2 ══════════════════════════════════════════════════════════════════════════════════════════

def gpt2_cases():
    cfg = configs.gpt2_config()
    gen = torch.Generator().manual_seed(2)
    P = init_gpt2(cfg, gen)
    tok, tok_cfg = build_gpt2_tokenizer(CORPUS, cfg["vocab_size"])
    text = "The cat sat on a hat"
    ids_list, pieces = encode_gpt2(tok, text)
    assert len(ids_list) <= 8, pieces
    ids = torch.tensor([ids_list])

    a = Case("gpt2", "GPT2LMHeadModel in the layout of the official openai-community/gpt2 model.safetensors: "
             "GPT2Model names without a prefix, h.{i}.attn.bias causal-mask buffers present, no lm_head (tied to wte).")
    base = a.record(lambda rec: forward_gpt2(P, cfg, ids, rec))
    a.flip(base, "gelu_new -> exact gelu", forward_gpt2(P, cfg, ids, NullRecorder(), {**GPT2_CONV, "act": "gelu"}))
    a.flip(base, "layer_norm_epsilon 1e-3 -> 1e-5", forward_gpt2(P, cfg, ids, NullRecorder(), {**GPT2_CONV, "eps": 1e-5}))
    # Conv1D stored [in, out]: reading it as nn.Linear's [out, in] is wrong
    # (the same bytes taken as an [out, in] nn.Linear weight W' = raw.reshape(out, in); y = x W'^T)
    Pt = {k: (t.reshape(t.shape[1], t.shape[0]).t() if k.endswith(".weight") and ("c_attn" in k or "c_fc" in k or "c_proj" in k) else t)
          for k, t in P.items()}
    Pt["lm_head.weight"] = Pt["transformer.wte.weight"]
    a.flip(base, "Conv1D [in,out] read as [out,in]", forward_gpt2(Pt, cfg, ids, NullRecorder()))
    # independent re-derivation with torch.nn modules
    a.check("torch.nn re-derivation (MultiheadAttention, LayerNorm, Linear)", gpt2_torch_nn(P, cfg, ids), base)
    a.check("gelu_new formula == F.gelu(approximate='tanh')",
            forward_gpt2(P, cfg, ids, NullRecorder(), {**GPT2_CONV, "act": "gelu_pytorch_tanh"}), base)
    a.config = cfg
    official = saved(P, drop={"lm_head.weight"}, prefix_strip="transformer.")
    n = cfg["n_positions"]
    for i in range(cfg["n_layer"]):
        official[f"h.{i}.attn.bias"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
    a.weights = official
    common_input = {
        "input_ids": ids.tolist(),
        "num_parameters": count_parameters(P),
        "text": text,
        "tokens": pieces,
    }
    a.input = {"description": a.description, **common_input, "notes": [
        "num_parameters counts wte once (lm_head is tied) and excludes the h.{i}.attn.bias buffers.",
        "h.{i}.attn.bias ([1, 1, n_positions, n_positions] lower-triangular ones) is a buffer, not a weight.",
        "input_ids are tokenizer.json applied to `text` (no special tokens added).",
    ]}
    a.json_files = {"tokenizer.json": tok, "tokenizer_config.json": tok_cfg}

    b = Case("gpt2_prefixed", "The same GPT-2 weights as GPT2LMHeadModel.save_pretrained writes them: "
             "transformer.-prefixed names, no lm_head.weight (tied), no attn.bias (a non-persistent buffer).")
    b.config, b.expected = cfg, a.expected
    b.weights = saved(P, drop={"lm_head.weight"})
    b.input = {"description": b.description, **common_input,
               "notes": ["Identical model, input and expected tensors to the gpt2 case; only the tensor names differ."]}
    b.json_files = a.json_files
    b.report = ["same model as gpt2 (checks there)"]
    return [a, b]


# ══ Llama family ═══════════════════════════════════════════════════════════════════════════════════

def llama_common_checks(c, P, cfg, ids, base):
    fam = cfg["model_type"]
    null = NullRecorder()
    if cfg["num_key_value_heads"] != cfg["num_attention_heads"]:
        Q, cm = mha_from_gqa(P, cfg)
        c.check(f"GQA/MQA ({cfg['num_key_value_heads']} kv heads) == MHA with duplicated kv heads",
                forward_llama(Q, cm, ids, null), base)
        if cfg["num_key_value_heads"] > 1:
            c.flip(base, "kv head for query head h: h // n_rep -> h % n_kv",
                   forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "kv_group": "tile"}))
    c.flip(base, "RoPE rotate_half -> interleaved pairs", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "rope": "interleaved"}))
    if cfg["rope_theta"] != 10000.0:
        c.flip(base, f"rope_theta {cfg['rope_theta']} -> 10000", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "rope_theta": 10000.0}))
    # RoPE by complex rotation of the pairs (i, i + d/2), independent of rotate_half
    rec = Recorder()
    forward_llama(P, cfg, ids, rec)
    d = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    T = ids.shape[1]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2).float() / d))
    rot = torch.polar(torch.ones(T, d // 2), torch.outer(torch.arange(T).float(), inv))[None, :, None, :]
    for i in range(cfg["num_hidden_layers"]):
        q = rec.store[f"blocks.{i}.attn.hook_q"]
        qc = torch.complex(q[..., : d // 2], q[..., d // 2:]) * rot
        c.check(f"blocks.{i} hook_rot_q == complex rotation of (q[j], q[j + d/2])",
                torch.cat([qc.real, qc.imag], dim=-1), rec.store[f"blocks.{i}.attn.hook_rot_q"])
    if P["lm_head.weight"] is P["model.embed_tokens.weight"]:
        c.check("tied head: logits == ln_final @ embed_tokens^T",
                rec.store["ln_final.hook_normalized"] @ P["model.embed_tokens.weight"].t(), base)
    return rec


def llama_cases():
    cfg = configs.llama_config()
    gen = torch.Generator().manual_seed(10)
    P = init_llama(cfg, gen)
    alphabet = "abcdefghijklmnopqrstuvwxyz.,"
    tok, tok_cfg = build_llama_tokenizer(CORPUS.lower(), cfg["vocab_size"], alphabet)
    text = "a bat ate the rat"
    ids_list, pieces = encode_llama(tok, text)
    assert len(ids_list) <= 8, pieces
    ids = torch.tensor([ids_list])
    null = NullRecorder()

    out = []
    a = Case("llama", "LlamaForCausalLM: GQA (4 query heads, 2 kv heads), RoPE in the rotate_half layout with "
             "rope_theta 500, rms_norm_eps 1e-5, untied lm_head.")
    base = a.record(lambda rec: forward_llama(P, cfg, ids, rec))
    llama_common_checks(a, P, cfg, ids, base)
    a.flip(base, "rms_norm_eps 1e-5 -> 1e-6", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "eps": 1e-6}))
    Pt = dict(P)
    Pt["lm_head.weight"] = P["model.embed_tokens.weight"]
    a.flip(base, "untied lm_head -> tied to embed_tokens", forward_llama(Pt, cfg, ids, null))
    a.config, a.weights = cfg, saved(P)
    a.input = {"description": a.description, "input_ids": ids.tolist(), "num_parameters": count_parameters(P),
               "text": text, "tokens": pieces,
               "notes": ["input_ids are tokenizer.json applied to `text`, with the <s> (id 1) its TemplateProcessing adds."]}
    a.json_files = {"tokenizer.json": tok, "tokenizer_config.json": tok_cfg}
    out.append(a)

    # tied variant
    cfg_t = configs.llama_config(tied=True)
    Pt = init_llama(cfg_t, torch.Generator().manual_seed(11))
    ids_t = ids_gen(111, (2, 6), 0, cfg_t["vocab_size"])
    t = Case("llama_tied", "LlamaForCausalLM with tie_word_embeddings true: no lm_head.weight in the file; batch of 2.")
    base_t = t.record(lambda rec: forward_llama(Pt, cfg_t, ids_t, rec))
    llama_common_checks(t, Pt, cfg_t, ids_t, base_t)
    t.config, t.weights = cfg_t, saved(Pt, drop={"lm_head.weight"})
    t.input = {"description": t.description, "input_ids": ids_t.tolist(), "num_parameters": count_parameters(Pt),
               "notes": ["num_parameters counts embed_tokens once (lm_head is the same Parameter)."]}
    out.append(t)

    # F16 / BF16 copies of the llama case
    for dt, label in ((torch.float16, "float16"), (torch.bfloat16, "bfloat16")):
        cfg_d = configs.llama_config(dtype=label)
        R = rounded(P, dt)
        short = {"float16": "f16", "bfloat16": "bf16"}[label]
        c = Case(f"llama_{short}", f"The llama case's weights stored as {label.upper()} (torch_dtype {label}); "
                 "expected tensors computed in F32 from the rounded weights, as the engine widens them.")
        b = c.record(lambda rec: forward_llama(R, cfg_d, ids, rec))
        c.flip(b, f"{label} rounding ignored (F32 weights)", base)
        c.config, c.weights = cfg_d, with_dtype(saved(P), dt)
        c.input = {"description": c.description, "input_ids": ids.tolist(), "num_parameters": count_parameters(P),
                   "text": text, "tokens": pieces,
                   "notes": [f"Weights are {label}; the reference widened each to F32 and computed in F32 "
                             "(not HF's half-precision arithmetic)."]}
        c.json_files = a.json_files
        out.append(c)
    return out


def mistral_case():
    cfg = configs.mistral_config()
    P = init_llama(cfg, torch.Generator().manual_seed(20))
    ids = ids_gen(220, (1, 7), 0, cfg["vocab_size"])
    c = Case("mistral", "MistralForCausalLM: sliding_window 3 with T 7 (query i attends keys j with i-3 < j <= i), GQA 4/2.")
    null = NullRecorder()
    base = c.record(lambda rec: forward_llama(P, cfg, ids, rec))
    llama_common_checks(c, P, cfg, ids, base)
    c.flip(base, "sliding window ignored", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "window": None}))
    c.flip(base, "window off by one (W+1 keys)", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "window": 4}))
    c.flip(base, "window off by one (W-1 keys)", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "window": 2}))
    W, T = cfg["sliding_window"], ids.shape[1]
    for i in range(cfg["num_hidden_layers"]):
        pat = c.expected[f"blocks.{i}.attn.hook_pattern"]
        for qi in range(T):
            for kj in range(T):
                seen = bool((pat[..., qi, kj] > 0).all())
                assert seen == (qi - W < kj <= qi), (i, qi, kj)
    c.report.append("check pattern > 0 exactly where i - 3 < j <= i")
    c.config, c.weights = cfg, saved(P)
    c.input = {"description": c.description, "input_ids": ids.tolist(), "num_parameters": count_parameters(P)}
    return [c]


def qwen2_case():
    cfg = configs.qwen2_config()
    P = init_llama(cfg, torch.Generator().manual_seed(30))
    ids = ids_gen(330, (1, 8), 0, cfg["vocab_size"])
    c = Case("qwen2", "Qwen2ForCausalLM: q/k/v projections with biases (o_proj without), tied embeddings "
             "(no lm_head.weight), GQA 4/2, rope_theta 1e6, use_sliding_window false.")
    null = NullRecorder()
    base = c.record(lambda rec: forward_llama(P, cfg, ids, rec))
    llama_common_checks(c, P, cfg, ids, base)
    c.flip(base, "q/k/v biases ignored", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "qkv_bias": False}))
    c.config, c.weights = cfg, saved(P, drop={"lm_head.weight"})
    c.input = {"description": c.description, "input_ids": ids.tolist(), "num_parameters": count_parameters(P)}
    return [c]


def gate_into_gelu_tail(P, cfg, ids, gen):
    """Aim each gate unit at the GELU tail: row j of gate_proj = noise + t_j * h_mean / |h_mean|^2 with
    t_j ~ N(-2.5, 0.3), h_mean the mean normalised MLP input of the fixture's tokens, so gate
    pre-activations sit near -2.5, where tanh-GELU and erf-GELU differ most relative to their value
    (the gated FFN has no bias to shift them with). Layer by layer, since later inputs depend on it."""
    for i in range(cfg["num_hidden_layers"]):
        rec = Recorder()
        forward_llama(P, cfg, ids, rec)
        hm = rec.store[f"blocks.{i}.ln2.hook_normalized"].mean((0, 1))
        k = f"model.layers.{i}.mlp.gate_proj.weight"
        t = torch.randn(P[k].shape[0], 1, generator=gen) * 0.3 - 2.5
        P[k] = torch.randn(P[k].shape, generator=gen) * 0.05 + t * hm[None] / hm.dot(hm)


def gemma_case():
    cfg = configs.gemma_config()
    gen = torch.Generator().manual_seed(40)
    P = init_llama(cfg, gen, embed_std=0.3, down_std=2.0)
    ids = ids_gen(440, (1, 8), 0, cfg["vocab_size"])
    gate_into_gelu_tail(P, cfg, ids, gen)
    c = Case("gemma", "GemmaForCausalLM: RMSNorm as (1 + weight), embeddings * sqrt(hidden_size) (cast to the dtype), "
             "gelu_pytorch_tanh gate (hidden_activation), head_dim 16 != 48/4, MQA (1 kv head), tied, "
             "tie_word_embeddings absent from config.json (default true).")
    null = NullRecorder()
    base = c.record(lambda rec: forward_llama(P, cfg, ids, rec))
    llama_common_checks(c, P, cfg, ids, base)
    c.flip(base, "RMSNorm weight instead of (1 + weight)", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "gemma_norm": False}))
    c.flip(base, "no sqrt(hidden_size) embedding scale", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "embed_scale": False}))
    c.flip(base, "gelu_pytorch_tanh -> exact gelu", forward_llama(P, cfg, ids, null, {**LLAMA_CONV, "act": "gelu"}))
    # (1 + w) RMSNorm == Llama's RMSNorm with weights 1 + w
    Q = {k: (1.0 + t if "layernorm" in k or k == "model.norm.weight" else t) for k, t in P.items()}
    Q["lm_head.weight"] = Q["model.embed_tokens.weight"]
    c.check("Gemma norm == Llama RMSNorm with weights (1 + w)", forward_llama(Q, cfg, ids, null, {**LLAMA_CONV, "gemma_norm": False}), base)
    c.config, c.weights = cfg, saved(P, drop={"lm_head.weight"})
    c.input = {"description": c.description, "input_ids": ids.tolist(), "num_parameters": count_parameters(P),
               "notes": ["hook_embed is the scaled embedding: embed_tokens(ids) * float32(sqrt(48))."]}
    return [c]


# ══ BERT ═══════════════════════════════════════════════════════════════════════════════════════════

def bert_case():
    cfg = configs.bert_config()
    gen = torch.Generator().manual_seed(50)
    P = init_bert(cfg, gen)
    pooler = init_bert_pooler(cfg, gen)
    ids = ids_gen(550, (2, 8), 1, cfg["vocab_size"])
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
    ids[1, 5:] = cfg["pad_token_id"]
    tt = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 0]])
    c = Case("bert", "BertForMaskedLM: post-norm, word + token_type + absolute position embeddings, "
             "layer_norm_eps 1e-12, exact GELU, MLM transform + decoder tied to word embeddings with its own bias; "
             "batch of 2, the second padded (attention_mask 0) at its last 3 positions.")
    null = NullRecorder()
    base = c.record(lambda rec: forward_bert(P, cfg, ids, tt, mask, rec))
    c.flip(base, "exact gelu -> tanh gelu", forward_bert(P, cfg, ids, tt, mask, null, {**BERT_CONV, "act": "gelu_new"}))
    c.flip(base, "padding mask ignored", forward_bert(P, cfg, ids, tt, mask, null, {**BERT_CONV, "use_mask": False}))
    c.flip(base, "token types ignored", forward_bert(P, cfg, ids, torch.zeros_like(tt), mask, null))
    Pn = dict(P)
    Pn["cls.predictions.decoder.bias"] = torch.zeros_like(P["cls.predictions.bias"])
    c.flip(base, "decoder bias (cls.predictions.bias) ignored", forward_bert(Pn, cfg, ids, tt, mask, null))
    pat = c.expected["blocks.0.attn.hook_pattern"]
    assert bool((pat[1, :, :, 5:] == 0).all()), "padded keys must get probability exactly 0"
    c.report.append("check padded keys get probability exactly 0")
    c.check("torch.nn.TransformerEncoderLayer (post-norm) re-derivation", bert_torch_nn(P, cfg, ids, tt, mask), base)
    c.config = cfg
    c.weights = {**saved(P, drop={"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}), **pooler}
    c.input = {"description": c.description, "input_ids": ids.tolist(), "token_type_ids": tt.tolist(),
               "attention_mask": mask.tolist(), "num_parameters": count_parameters(P),
               "notes": [
                   "bert.pooler.dense.* is in model.safetensors (as in a pretrained BERT) but BertForMaskedLM has "
                   "no pooler: it is unused by the MLM head and not counted in num_parameters.",
                   "cls.predictions.decoder.weight is tied to bert.embeddings.word_embeddings.weight and "
                   "cls.predictions.decoder.bias is cls.predictions.bias; neither duplicate is in the file.",
                   "Padded positions are computed like the others (their queries still attend to the unpadded "
                   "keys); their outputs are in expected.safetensors too.",
                   "The block output is blocks.{i}.ln2.hook_normalized (post-norm); hook_resid_mid/post are "
                   "taken before their norms. blocks.0.hook_resid_pre is the embeddings' LayerNorm output.",
               ]}
    return [c]


# ══ Marian ═════════════════════════════════════════════════════════════════════════════════════════

def marian_case():
    cfg = configs.marian_config()
    gen = torch.Generator().manual_seed(60)
    P = init_marian(cfg, gen)
    Bf = init_marian_buffers(cfg, gen)
    src = ids_gen(660, (1, 6), 1, cfg["vocab_size"] - 1)
    src[0, -1] = cfg["eos_token_id"]
    dec = ids_gen(661, (1, 5), 1, cfg["vocab_size"] - 1)
    dec[0, 0] = cfg["decoder_start_token_id"]
    c = Case("marian", "MarianMTModel: post-norm encoder-decoder, sinusoidal positions in Marian's layout (sin in the "
             "first half of the dims, cos in the second), scale_embedding (x sqrt(d_model)), swish, shared "
             "embeddings tied to lm_head, final_logits_bias.")
    null = NullRecorder()
    base = c.record(lambda rec: forward_marian(P, Bf, cfg, src, dec, rec))
    c.flip(base, "sinusoid layout -> interleaved sin/cos", forward_marian(P, Bf, cfg, src, dec, null, {**MARIAN_CONV, "pos_layout": "interleaved"}))
    c.flip(base, "no sqrt(d_model) embedding scale", forward_marian(P, Bf, cfg, src, dec, null, {**MARIAN_CONV, "scale": False}))
    c.flip(base, "final_logits_bias ignored", forward_marian(P, Bf, cfg, src, dec, null, {**MARIAN_CONV, "final_bias": False}))
    c.flip(base, "swish -> gelu", forward_marian(P, Bf, cfg, src, dec, null, {**MARIAN_CONV, "act": "gelu"}))
    # the table from an independent torch formula
    n, D = cfg["max_position_embeddings"], cfg["d_model"]
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    freq = torch.pow(torch.tensor(10000.0, dtype=torch.float64), -torch.arange(0, D, 2, dtype=torch.float64) / D)
    table = torch.cat([torch.sin(pos * freq), torch.cos(pos * freq)], dim=1).float()
    c.check("sinusoidal table == [sin(p w_k) | cos(p w_k)], w_k = 10000^(-2k/d)", P["model.encoder.embed_positions.weight"], table, 1e-6)
    c.check("torch.nn.TransformerEncoder/DecoderLayer (post-norm, silu) re-derivation", marian_torch_nn(P, Bf, cfg, src, dec), base)
    c.config = cfg
    tied = {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"}
    c.weights = {**saved(P, drop=tied), **Bf}
    c.input = {"description": c.description, "input_ids": src.tolist(), "decoder_input_ids": dec.tolist(),
               "num_parameters": count_parameters(P),
               "notes": [
                   "Hooks carry encoder./decoder. prefixes. Decoder blocks: attn (self), cross_attn, ln1 (after self), "
                   "ln2 (after cross), ln3 (after the FFN: the block output); hook_resid_mid / hook_resid_mid_cross / "
                   "hook_resid_post are taken before their norms. Marian has no final encoder/decoder layer norm.",
                   "attn.hook_q / cross_attn.hook_q are q_proj(x) before HF multiplies by head_dim**-0.5.",
                   "hook_embed is embed_tokens(ids) * sqrt(d_model); hook_pos_embed the sinusoidal rows 0..T-1.",
                   "num_parameters counts model.shared once (encoder/decoder embed_tokens and lm_head are the same "
                   "Parameter) and includes both embed_positions tables (Parameters with requires_grad False); "
                   "final_logits_bias is a buffer and is not counted.",
                   "The encoder has no attention_mask (all tokens real).",
               ]}
    return [c]


# ══ DeepSeek-V2 ════════════════════════════════════════════════════════════════════════════════════

def deepseek_cases():
    out = []
    for name, qr, seed in (("deepseek_v2", 24, 70), ("deepseek_v2_no_q_lora", None, 71)):
        cfg = configs.deepseek_v2_config(qr)
        P = init_deepseek_v2(cfg, torch.Generator().manual_seed(seed))
        ids = ids_gen(seed * 11, (1, 7), 0, cfg["vocab_size"])
        what = f"q_lora_rank {qr} (q_a_proj -> q_a_layernorm -> q_b_proj)" if qr else "q_lora_rank null (a plain q_proj)"
        c = Case(name, f"DeepseekV2ForCausalLM (DeepSeek's modeling_deepseek.py), dense (n_routed_experts null): "
                 f"multi-head latent attention with kv_lora_rank 16, {what}, qk_nope_head_dim 8, qk_rope_head_dim 8, "
                 "v_head_dim 12, softmax_scale (8 + 8)**-0.5, de-interleaving RoPE, no rope_scaling.")
        null = NullRecorder()
        base = c.record(lambda rec: forward_deepseek_v2(P, cfg, ids, rec))
        c.check("MLA in absorbed form with complex RoPE on pairs (2k, 2k+1)", mla_absorbed_logits(P, cfg, ids), base)
        c.flip(base, "RoPE without the de-interleave (plain rotate_half)", forward_deepseek_v2(P, cfg, ids, null, {**DSV2_CONV, "deinterleave": False}))
        c.flip(base, "softmax_scale v_head_dim**-0.5", forward_deepseek_v2(P, cfg, ids, null, {**DSV2_CONV, "softmax_scale": cfg["v_head_dim"] ** -0.5}))
        c.flip(base, "softmax_scale qk_nope_head_dim**-0.5", forward_deepseek_v2(P, cfg, ids, null, {**DSV2_CONV, "softmax_scale": cfg["qk_nope_head_dim"] ** -0.5}))
        c.config, c.weights = cfg, saved(P)
        c.input = {"description": c.description, "input_ids": ids.tolist(), "num_parameters": count_parameters(P),
                   "notes": [
                       "attn.hook_q [B,T,H,16]: the query before RoPE (nope | rope parts). attn.hook_rot_q: the full "
                       "query after RoPE on its rope part, rope dims in HF's output layout (de-interleaved: "
                       "rotated pairs (x[2k], x[2k+1]) land at k and k + 4). attn.hook_rot_k [B,T,1,8]: the shared "
                       "rope key after RoPE, before broadcasting to the heads, same layout.",
                       "attn.hook_kv_latent [B,T,16]: kv_a_layernorm(compressed_kv) (eps 1e-6, the module default). "
                       "attn.hook_v [B,T,H,12]: the value part of kv_b_proj(latent). attn.hook_z [B,T,H,12].",
                       "transformers' own deepseek_v2 port rotates interleaved pairs with complex numbers and keeps "
                       "them interleaved: same attention and logits, different hook_rot_q/k dim order.",
                   ]}
        out.append(c)
    return out


# ══ driver ═════════════════════════════════════════════════════════════════════════════════════════

BUILDERS = [gpt2_cases, llama_cases, mistral_case, qwen2_case, gemma_case, bert_case, marian_case, deepseek_cases]


def write_case(c, root):
    d = os.path.join(root, c.name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    write_config(os.path.join(d, "config.json"), c.config)
    write_safetensors(os.path.join(d, "model.safetensors"), c.weights, {"format": "pt"})
    write_safetensors(os.path.join(d, "expected.safetensors"), c.expected, {"format": "pt"})
    write_json(os.path.join(d, "input.json"), c.input)
    for fn, obj in c.json_files.items():
        write_json(os.path.join(d, fn), obj)
    # round trip: what is on disk is what was computed
    for fn, ref in (("model.safetensors", c.weights), ("expected.safetensors", c.expected)):
        back, meta = read_safetensors(os.path.join(d, fn))
        assert meta == {"format": "pt"} and set(back) == set(ref), fn
        for k, t in ref.items():
            assert back[k].dtype == t.dtype and torch.equal(back[k], t.contiguous()), (fn, k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare byte for byte")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    cases = [c for b in BUILDERS for c in b()]
    root = OUT
    if args.check:
        import tempfile
        root = tempfile.mkdtemp(prefix="gen_hf_")
    elif os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(root, exist_ok=True)
    for c in cases:
        write_case(c, root)
        if not args.quiet:
            print(f"{c.name}: {len(c.expected)} tensors, num_parameters {c.input['num_parameters']}")
            for line in c.report:
                print("   ", line)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(root) for f in fs)
    # The real transformers classes, when installed (e.g. /work/venv/bin/python): same logits within fp32 noise.
    from hf_ref import transformers_check
    if transformers_check.available():
        results = transformers_check.check_all(root)
        bad = [n for n, r in results.items() if not r["ok"]]
        if bad:
            sys.exit("the real transformers classes disagree with: " + ", ".join(bad))
    else:
        print("transformers is not installed: the cross-check against its classes is skipped")
    print(f"{len(cases)} cases, {total / 1e6:.2f} MB in {os.path.relpath(root, ROOT) if not args.check else root}")
    if args.check:
        import filecmp
        bad = []
        for dp, _, fs in os.walk(root):
            for f in fs:
                rel = os.path.relpath(os.path.join(dp, f), root)
                mine = os.path.join(OUT, rel)
                if not os.path.exists(mine) or not filecmp.cmp(os.path.join(dp, f), mine, shallow=False):
                    bad.append(rel)
        shutil.rmtree(root)
        if bad:
            sys.exit("differs from test/fixtures/hf: " + ", ".join(sorted(bad)))
        print("test/fixtures/hf is up to date")


if __name__ == "__main__":
    main()
