#!/usr/bin/env python3
"""Convert activations saved from an nnsight trace into a Transformer Inspector trace (docs/trace-format.md).

nnsight has no file format of its own: inside `with model.trace(prompt):` one binds what one saves
(`h = model.transformer.h[0].output.save()`), and after the trace the names hold plain tensors (or tuples of
tensors, for modules that return tuples). This converter reads those values saved with torch.save as a dict
keyed by the module's path and `.input` or `.output`, as nnsight spells the access:

    with model.trace("The cat sat"):
        h0_in = model.transformer.h[0].input.save()
        h0_out = model.transformer.h[0].output.save()
        mlp0 = model.transformer.h[0].mlp.output.save()
        logits = model.lm_head.output.save()
    torch.save({"transformer.h.0.input": h0_in, "transformer.h.0.output": h0_out,
                "transformer.h.0.mlp.output": mlp0, "lm_head.output": logits}, "nnsight.pt")

    python tools/capture/convert_nnsight.py nnsight.pt --config config.json --ids 464,3797 --out run.trace.safetensors

Keys map to the inspector's hook names by family (GPT-2; Llama, Mistral, Qwen2, Gemma), with the same module
choices as capture_hf.py. Keys with no hook name are listed and left out.
"""
import argparse
import json
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_transformerlens import step_key  # noqa: E402
from trace_writer import keep_positions, manifest, save_trace  # noqa: E402

TOOL = "tools/capture/convert_nnsight.py"


def heads(n):
    return lambda t: t.reshape(t.shape[0], t.shape[1], n, -1)


def qkv_part(j, d, n):
    return lambda t: heads(n)(t[..., j * d:(j + 1) * d])


def gpt2_map(cfg):
    H, d = cfg["n_head"], cfg["n_embd"]
    b = r"(?:transformer\.)?h\.(\d+)"
    return [
        (r"(?:transformer\.)?wte\.output", "hook_embed", None),
        (r"(?:transformer\.)?wpe\.output", "hook_pos_embed", "pos"),
        (rf"{b}\.input", "blocks.{i}.hook_resid_pre", None),
        (rf"{b}\.ln_1\.output", "blocks.{i}.ln1.hook_normalized", None),
        (rf"{b}\.attn\.c_attn\.output", ["blocks.{i}.attn.hook_q", "blocks.{i}.attn.hook_k", "blocks.{i}.attn.hook_v"],
         [qkv_part(j, d, H) for j in range(3)]),
        (rf"{b}\.attn\.c_proj\.input", "blocks.{i}.attn.hook_z", heads(H)),
        (rf"{b}\.attn\.output", ["blocks.{i}.hook_attn_out", "blocks.{i}.attn.hook_pattern"], "tuple"),
        (rf"{b}\.ln_2\.input", "blocks.{i}.hook_resid_mid", None),
        (rf"{b}\.ln_2\.output", "blocks.{i}.ln2.hook_normalized", None),
        (rf"{b}\.mlp\.c_fc\.output", "blocks.{i}.mlp.hook_pre", None),
        (rf"{b}\.mlp\.c_proj\.input", "blocks.{i}.mlp.hook_post", None),
        (rf"{b}\.mlp\.output", "blocks.{i}.hook_mlp_out", None),
        (rf"{b}\.output", "blocks.{i}.hook_resid_post", None),
        (r"(?:transformer\.)?ln_f\.output", "ln_final.hook_normalized", None),
        (r"lm_head\.output", "logits", None),
    ]


def llama_map(cfg):
    H = cfg["num_attention_heads"]
    Hkv = cfg.get("num_key_value_heads", H)
    b = r"model\.layers\.(\d+)"
    return [
        (r"model\.layers\.0\.input", "hook_embed", None),  # the (scaled, for Gemma) embedding is block 0's input
        (rf"{b}\.input", "blocks.{i}.hook_resid_pre", None),
        (rf"{b}\.input_layernorm\.output", "blocks.{i}.ln1.hook_normalized", None),
        (rf"{b}\.self_attn\.q_proj\.output", "blocks.{i}.attn.hook_q", heads(H)),
        (rf"{b}\.self_attn\.k_proj\.output", "blocks.{i}.attn.hook_k", heads(Hkv)),
        (rf"{b}\.self_attn\.v_proj\.output", "blocks.{i}.attn.hook_v", heads(Hkv)),
        (rf"{b}\.self_attn\.o_proj\.input", "blocks.{i}.attn.hook_z", heads(H)),
        (rf"{b}\.self_attn\.output", ["blocks.{i}.hook_attn_out", "blocks.{i}.attn.hook_pattern"], "tuple"),
        (rf"{b}\.post_attention_layernorm\.input", "blocks.{i}.hook_resid_mid", None),
        (rf"{b}\.post_attention_layernorm\.output", "blocks.{i}.ln2.hook_normalized", None),
        (rf"{b}\.mlp\.gate_proj\.output", "blocks.{i}.mlp.hook_pre", None),
        (rf"{b}\.mlp\.up_proj\.output", "blocks.{i}.mlp.hook_pre_linear", None),
        (rf"{b}\.mlp\.down_proj\.input", "blocks.{i}.mlp.hook_post", None),
        (rf"{b}\.mlp\.output", "blocks.{i}.hook_mlp_out", None),
        (rf"{b}\.output", "blocks.{i}.hook_resid_post", None),
        (r"model\.norm\.output", "ln_final.hook_normalized", None),
        (r"lm_head\.output", "logits", None),
    ]


FAMILIES = {"gpt2": gpt2_map, "llama": llama_map, "mistral": llama_map, "qwen2": llama_map, "gemma": llama_map}


def first(v):
    return v[0] if isinstance(v, (tuple, list)) else v


def convert(saved, cfg, batch):
    table = FAMILIES[cfg["model_type"]](cfg)
    out, skipped = {}, []
    for key, value in saved.items():
        key = re.sub(r"^model\.(?=(transformer|lm_head|model)\.)", "", key)  # `model.` of the LanguageModel envoy
        matched = False
        for pattern, names, how in table:  # a key may give several hooks (layer 0's input is also hook_embed)
            m = re.fullmatch(pattern, key)
            if not m:
                continue
            matched = True
            i = m.group(1) if m.groups() else None
            fill = (lambda n: n.replace("{i}", i)) if i is not None else (lambda n: n)
            if how == "tuple":  # (output, attention weights or None)
                parts = list(value) if isinstance(value, (tuple, list)) else [value]
                for n, part in zip(names, parts):
                    if isinstance(part, torch.Tensor):
                        out[fill(n)] = part
            elif isinstance(names, list):
                for n, f in zip(names, how):
                    out[fill(n)] = f(first(value))
            else:
                t = first(value)
                if how == "pos":
                    t = t.expand(batch, -1, -1)
                elif how is not None:
                    t = how(t)
                out.setdefault(fill(names), t)
        if not matched:
            skipped.append(key)
    return dict(sorted(out.items(), key=lambda kv: step_key(kv[0]))), skipped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("saved", help="torch.save of a dict: module path + .input/.output → tensor (or tuple)")
    ap.add_argument("--config", required=True, help="the model's Hugging Face config.json")
    ap.add_argument("--ids", required=True, help="the input token ids, comma-separated; ';' between sequences")
    ap.add_argument("--tokens", help="the token strings, comma-separated (optional)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--positions", help="comma-separated positions to keep along pos / query_pos")
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    a = ap.parse_args(argv)
    saved = torch.load(a.saved, map_location="cpu", weights_only=True)
    cfg = json.load(open(a.config))
    if cfg.get("model_type") not in FAMILIES:
        sys.exit(f"convert_nnsight.py: model_type {cfg.get('model_type')!r} is not mapped ({', '.join(FAMILIES)})")
    ids = [[int(x) for x in row.split(",")] for row in a.ids.split(";")]
    tokens = [[t.strip() for t in a.tokens.split(",")]] if a.tokens else None
    positions = [int(x) for x in a.positions.split(",")] if a.positions else None
    out, skipped = convert(saved, cfg, len(ids))
    out = {n: keep_positions(n, t, positions) for n, t in out.items()}
    meta = manifest(TOOL, "nnsight saved values", cfg, ids, tokens, a.dtype, list(out), positions)
    save_trace(a.out, out, meta, a.dtype)
    print(f"wrote {len(out)} hooks to {a.out}" + (f"; not mapped: {', '.join(skipped)}" if skipped else ""))


if __name__ == "__main__":
    main()
