"""Writes the Transformer Inspector trace format (docs/trace-format.md): safetensors files holding tensors
under the inspector's hook names, with a JSON manifest in `__metadata__["inspector_trace"]`.

Used by capture_hf.py, convert_transformerlens.py and convert_nnsight.py. Needs torch and safetensors
(safetensors comes with transformers; TransformerLens and nnsight install it too).
"""
import json
import os

import torch
from safetensors.torch import save_file

FORMAT = "transformer-inspector-trace"
VERSION = 1
MANIFEST_KEY = "inspector_trace"
DTYPES = {"f32": (torch.float32, "F32"), "f16": (torch.float16, "F16"), "bf16": (torch.bfloat16, "BF16")}


def manifest(tool, library, config, input_ids, tokens, dtype, hooks, positions=None, shard=None,
             config_format="hf", decoder_ids=None, decoder_tokens=None):
    inp = {"ids": [list(map(int, row)) for row in input_ids]}
    if tokens is not None:
        inp["tokens"] = [list(map(str, row)) for row in tokens]
    if decoder_ids is not None:
        inp["decoder_ids"] = [list(map(int, row)) for row in decoder_ids]
        if decoder_tokens is not None:
            inp["decoder_tokens"] = [list(map(str, row)) for row in decoder_tokens]
    m = {"format": FORMAT, "version": VERSION, "writer": {"tool": tool, "library": library},
         "config_format": config_format, "config": config, "input": inp, "dtype": DTYPES[dtype][1],
         "hooks": list(hooks)}
    if positions is not None:
        m["positions"] = list(positions)
    if shard is not None:
        m["shard"] = {"index": shard[0], "count": shard[1]}
    return m


def keep_positions(name, t, positions):
    """Keep `positions` along the pos / query_pos axis of a hook tensor (key_pos stays whole)."""
    if positions is None:
        return t
    last = name.rsplit(".", 1)[-1]
    axis = 2 if last in ("hook_pattern", "hook_attn_scores") else 1
    return t.index_select(axis, torch.tensor(positions, device=t.device))


def save_trace(path, tensors, meta, dtype):
    """One trace file: `tensors` (an ordered dict name → tensor, forward order) and its manifest."""
    torch_dtype = DTYPES[dtype][0]
    # clone: two hooks may hold one tensor (layer 0's input is hook_embed), which safetensors refuses to alias.
    out = {n: t.detach().to("cpu", torch_dtype).clone().contiguous() for n, t in tensors.items()}
    assert list(meta["hooks"]) == list(tensors), "the manifest's hooks must be the tensors, in order"
    save_file(out, path, metadata={MANIFEST_KEY: json.dumps(meta)})


class ShardedTraceWriter:
    """A trace folder written group by group (embeddings, each layer, the head), so a capture of a big model
    holds one layer's activations at a time: each group is saved as soon as it is complete."""

    def __init__(self, folder, count, make_manifest, dtype):
        os.makedirs(folder, exist_ok=True)
        self.folder, self.count, self.make_manifest, self.dtype = folder, count, make_manifest, dtype
        self.index = 0

    def write(self, tensors, label):
        path = os.path.join(self.folder, f"{self.index:05d}-{label}.trace.safetensors")
        save_trace(path, tensors, self.make_manifest(list(tensors), (self.index, self.count)), self.dtype)
        self.index += 1

    def close(self):
        assert self.index == self.count, f"wrote {self.index} of {self.count} shards"
