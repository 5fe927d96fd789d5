#!/usr/bin/env python3
"""GGUF golden files for engine/io/gguf.ts (issue 12), written with llama.cpp's own Python package `gguf`
(GGUFWriter, gguf.quants):

    /work/venv/bin/python tools/golden/gen_gguf.py

- test/fixtures/quant/gguf/llama-<TYPE>.gguf: the golden tiny Llama (test/fixtures/hf/llama) with its 2-D
  weights in TYPE (F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0; quantized by gguf.quants.quantize), its norms in F32,
  under llama.cpp's tensor names, Q/K rows permuted as convert_hf_to_gguf.py's LlamaModel.permute does,
  llama.* metadata as the converter writes it. The Q8_0 file also carries the gpt2 fixture's byte-level BPE
  as tokenizer.ggml.* metadata (model gpt2, tokens, merges, token types).
- test/fixtures/quant/gguf/expected.json: per file, the sha256 of every tensor's gguf.quants.dequantize
  output (float32 little-endian bytes) and the logits of Hugging Face's LlamaForCausalLM run on the
  dequantized (un-permuted) weights for the golden input (in expected-logits.safetensors).
- test/fixtures/quant/gguf/kquants.gguf + kquants-expected.safetensors: random valid blocks of Q4_K, Q5_K,
  Q6_K (and of the other block types), which gguf.quants can only dequantize, with that dequantization.
"""
import hashlib
import json
import os

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize, dequantize
from safetensors.torch import load_file, save_file
from transformers import LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "test", "fixtures", "hf", "llama")
OUT = os.path.join(ROOT, "test", "fixtures", "quant", "gguf")
TYPES = ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0"]
NAMES = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
         "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
         "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}


def gguf_name(hf):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")
    layer, rest = parts[2], ".".join(parts[3:-1])
    return f"blk.{layer}.{NAMES[rest]}.{parts[-1]}"


def permute(w, n_head, n_head_kv):
    """convert_hf_to_gguf.py LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f4").tobytes()).hexdigest()


def main():
    os.makedirs(OUT, exist_ok=True)
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    sd = load_file(os.path.join(MODEL, "model.safetensors"))
    ids = json.load(open(os.path.join(MODEL, "input.json")))["input_ids"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    logits_sd = {}
    expected = {"versions": {"gguf": "0.19.0", "numpy": np.__version__, "torch": torch.__version__}, "input_ids": ids, "files": {}}
    for tname in TYPES:
        qtype = getattr(T, tname)
        path = os.path.join(OUT, f"llama-{tname}.gguf")
        w = gguf.GGUFWriter(path, arch="llama")
        w.add_name("golden tiny llama")
        w.add_context_length(cfg["max_position_embeddings"])
        w.add_embedding_length(cfg["hidden_size"])
        w.add_block_count(cfg["num_hidden_layers"])
        w.add_feed_forward_length(cfg["intermediate_size"])
        w.add_head_count(H)
        w.add_head_count_kv(Hkv)
        w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
        w.add_rope_freq_base(cfg["rope_theta"])
        w.add_vocab_size(cfg["vocab_size"])
        w.add_bos_token_id(cfg["bos_token_id"])
        w.add_eos_token_id(cfg["eos_token_id"])
        if tname == "Q8_0":
            # A byte-level BPE tokenizer as convert_hf_to_gguf.py writes it (model gpt2): the gpt2 fixture's.
            tj = json.load(open(os.path.join(ROOT, "test", "fixtures", "hf", "gpt2", "tokenizer.json")))
            vocab = tj["model"]["vocab"]
            toks = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
            special = {a["id"] for a in tj["added_tokens"] if a["special"]}
            w.add_tokenizer_model("gpt2")
            w.add_token_list(toks)
            w.add_token_merges(tj["model"]["merges"])
            w.add_token_types([3 if i in special else 1 for i in range(len(toks))])
            w.add_add_bos_token(False)
        hashes, deq_sd = {}, {}
        for hf, t in sd.items():
            a = t.float().numpy()
            if hf.endswith("q_proj.weight"):
                a = permute(a, H, H)
            elif hf.endswith("k_proj.weight"):
                a = permute(a, H, Hkv)
            name = gguf_name(hf)
            if a.ndim == 1:
                w.add_tensor(name, a.astype(np.float32))
                d = a.astype(np.float32)
            else:
                q = quantize(a.astype(np.float32), qtype)
                w.add_tensor(name, q, raw_dtype=qtype)
                d = dequantize(q, qtype).astype(np.float32)
            hashes[name] = sha(d)
            if hf.endswith("q_proj.weight"):
                d = unpermute(d, H)
            elif hf.endswith("k_proj.weight"):
                d = unpermute(d, Hkv)
            deq_sd[hf] = torch.from_numpy(np.ascontiguousarray(d))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        model = LlamaForCausalLM.from_pretrained(MODEL, attn_implementation="eager", dtype=torch.float32).eval()
        model.load_state_dict(deq_sd)
        with torch.no_grad():
            logits = model(torch.tensor(ids)).logits[0]
        expected["files"][f"llama-{tname}.gguf"] = {"sha256": hashes}
        logits_sd[f"llama-{tname}.gguf"] = logits.contiguous()
    json.dump(expected, open(os.path.join(OUT, "expected.json"), "w"), indent=1)
    save_file(logits_sd, os.path.join(OUT, "expected-logits.safetensors"))

    # Random valid blocks of every block type (finite fp16 scales), two rows of 512 each.
    rng = np.random.default_rng(12)
    w = gguf.GGUFWriter(os.path.join(OUT, "kquants.gguf"), arch="llama")
    ref = {}
    for tname in ["Q4_K", "Q5_K", "Q6_K", "Q8_0", "Q4_0", "Q4_1", "Q5_0"]:
        qtype = getattr(T, tname)
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        n_blocks = 2 * 512 // block_size
        raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
        # Overwrite the fp16 scales with finite random values.
        halves = rng.uniform(-2, 2, size=(n_blocks, 2)).astype(np.float16).view(np.uint8)
        if tname in ("Q4_K", "Q5_K", "Q8_0", "Q4_0", "Q5_0", "Q4_1"):
            raw[:, 0:2] = halves[:, 0:2]
        if tname in ("Q4_K", "Q5_K", "Q4_1"):
            raw[:, 2:4] = halves[:, 2:4]
        if tname == "Q6_K":
            raw[:, type_size - 2:] = halves[:, 0:2]
        data = raw.reshape(2, -1)
        w.add_tensor(f"random.{tname}", data, raw_dtype=qtype)
        ref[f"random.{tname}"] = torch.from_numpy(dequantize(data, qtype).astype(np.float32).copy())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    save_file(ref, os.path.join(OUT, "kquants-expected.safetensors"))


if __name__ == "__main__":
    main()
