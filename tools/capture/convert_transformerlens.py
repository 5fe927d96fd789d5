#!/usr/bin/env python3
"""Convert a TransformerLens ActivationCache, saved as a dict of tensors under its hook names, into a
Transformer Inspector trace (docs/trace-format.md).

In TransformerLens:

    logits, cache = model.run_with_cache(tokens)
    torch.save({**cache.cache_dict, "logits": logits}, "cache.pt")      # or safetensors.torch.save_file

then here (CONFIG is the Hugging Face config.json of the same model, which the inspector's views need):

    python tools/capture/convert_transformerlens.py cache.pt --config CONFIG --ids 464,3797,3332 \
        --out run.trace.safetensors [--tokens 'The, cat, sat'] [--dtype f32|f16|bf16] [--hooks …] [--layers …]

TransformerLens's hook names are the inspector's own (they were chosen to be): the map below is the identity
for every hook both record (SAME), and the logits come from the "logits" entry saved beside the cache.
TransformerLens hooks the inspector does not record (`*.hook_scale`, the split-input hooks `hook_q_input`/`hook_attn_in`/`hook_mlp_in`, …) are listed and
left out. Note: `HookedTransformer.from_pretrained` folds LayerNorms and centres weights by default, which
changes the activations; use `from_pretrained_no_processing` for activations equal to the Hugging Face
model's (and to the inspector's run of its checkpoint).
"""
import argparse
import fnmatch
import json
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_writer import keep_positions, manifest, save_trace  # noqa: E402

TOOL = "tools/capture/convert_transformerlens.py"

# The TransformerLens hook names (regexes) that the inspector records under the same name. (The logits are
# not a hook in TransformerLens: run_with_cache returns them; save them under "logits".)
SAME = [
    "hook_embed", "hook_pos_embed", "hook_token_type_embed", "ln_final.hook_normalized", "logits",
    r"blocks\.\d+\.hook_resid_pre", r"blocks\.\d+\.hook_resid_mid", r"blocks\.\d+\.hook_resid_post",
    r"blocks\.\d+\.ln1\.hook_normalized", r"blocks\.\d+\.ln2\.hook_normalized",
    r"blocks\.\d+\.attn\.hook_(q|k|v|rot_q|rot_k|attn_scores|pattern|z)",
    r"blocks\.\d+\.hook_attn_out", r"blocks\.\d+\.hook_mlp_out",
    r"blocks\.\d+\.mlp\.hook_(pre|pre_linear|post)",
]


def inspector_name(tl_name):
    return tl_name if any(re.fullmatch(p, tl_name) for p in SAME) else None


def step_key(name):
    """The inspector's step order: embeddings, each layer's hooks as TransformerLens runs them, the head."""
    order = ["hook_resid_pre", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_rot_q",
             "attn.hook_rot_k", "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z", "hook_attn_out",
             "hook_resid_mid", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_pre_linear", "mlp.hook_post",
             "hook_mlp_out", "hook_resid_post"]
    top = ["hook_embed", "hook_pos_embed", "hook_token_type_embed", "ln_final.hook_normalized", "logits"]
    if name.startswith("blocks."):
        _, i, rest = name.split(".", 2)
        return (1, int(i), order.index(rest))
    return (0 if top.index(name) < 3 else 2, 0, top.index(name))


def load_cache(path):
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        return load_file(path)
    cache = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(cache, dict) or not all(isinstance(v, torch.Tensor) for v in cache.values()):
        sys.exit(f"{path}: expected a dict of tensors (ActivationCache.cache_dict saved with torch.save)")
    return cache


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cache", help="cache.pt (torch.save of the cache dict) or cache.safetensors")
    ap.add_argument("--config", required=True, help="the model's Hugging Face config.json")
    ap.add_argument("--ids", required=True, help="the input token ids, comma-separated; ';' between sequences")
    ap.add_argument("--tokens", help="the token strings, comma-separated (optional)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hooks", help="comma-separated glob patterns over the inspector's hook names")
    ap.add_argument("--layers", help="comma-separated layer indices to keep")
    ap.add_argument("--positions", help="comma-separated positions to keep along pos / query_pos")
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    a = ap.parse_args(argv)

    cache = load_cache(a.cache)
    ids = [[int(x) for x in row.split(",")] for row in a.ids.split(";")]
    tokens = [[t.strip() for t in a.tokens.split(",")]] if a.tokens else None
    positions = [int(x) for x in a.positions.split(",")] if a.positions else None
    layers = {int(x) for x in a.layers.split(",")} if a.layers else None
    patterns = a.hooks.split(",") if a.hooks else None
    out, skipped = {}, []
    for tl_name, t in cache.items():
        ours = inspector_name(tl_name)
        if ours is None:
            skipped.append(tl_name)
            continue
        if layers is not None and ours.startswith("blocks.") and int(ours.split(".")[1]) not in layers:
            continue
        if patterns is not None and not any(fnmatch.fnmatchcase(ours, p) for p in patterns):
            continue
        if t.dim() == 2 and ours != "logits" or t.dim() == 3 and ours.endswith(("hook_pattern", "hook_attn_scores")):
            t = t.unsqueeze(0)  # a cache of one prompt saved without its batch axis
        out[ours] = keep_positions(ours, t, positions)
    out = dict(sorted(out.items(), key=lambda kv: step_key(kv[0])))
    config = json.load(open(a.config))
    meta = manifest(TOOL, "TransformerLens ActivationCache", config, ids, tokens, a.dtype, list(out), positions)
    save_trace(a.out, out, meta, a.dtype)
    print(f"wrote {len(out)} hooks to {a.out}" + (f"; not in the inspector's names: {', '.join(sorted(skipped))}" if skipped else ""))


if __name__ == "__main__":
    main()
