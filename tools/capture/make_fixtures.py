#!/usr/bin/env python3
"""Regenerate test/fixtures/traces from the golden Hugging Face fixtures (test/fixtures/hf), with the real
transformers classes:

- NAME.trace.safetensors      capture_hf.py on gpt2, llama, mistral, qwen2, gemma (eager attention, CPU);
- llama_offload.trace/        capture_hf.py under accelerate, device_map="auto" with a max_memory that puts
                              layer 1 and the head on disk offload, written as one shard per layer;
- llama_subset.trace.safetensors  capture_hf.py's options: --hooks, --layers 1, --positions 0,3,6, --dtype bf16;
- gpt2_transformerlens.pt     an ActivationCache's dict as TransformerLens names it, saved with torch.save
                              (TransformerLens is not installable here: written from the transformers run with
                              TransformerLens's names, including its hook_scale entries the inspector lacks),
  gpt2_from_transformerlens.trace.safetensors   convert_transformerlens.py of it;
- llama_nnsight.pt            module path + .input/.output → value, as nnsight's saved values are (nnsight is
                              not installable here: recorded with forward hooks on the same modules),
  llama_from_nnsight.trace.safetensors          convert_nnsight.py of it.

    /work/venv/bin/python tools/capture/make_fixtures.py
"""
import json
import os
import shutil
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HF = os.path.join(ROOT, "test", "fixtures", "hf")
OUT = os.path.join(ROOT, "test", "fixtures", "traces")
sys.path.insert(0, HERE)
import capture_hf  # noqa: E402


def ids_of(name):
    with open(os.path.join(HF, name, "input.json")) as f:
        rows = json.load(f)["input_ids"]
    return ";".join(",".join(map(str, r)) for r in rows)


def run(*args):
    print("+", " ".join(args))
    subprocess.run([sys.executable, *args], check=True, cwd=ROOT)


def eager_model(name):
    """A golden fixture's model with eager attention, and its input ids."""
    model = AutoModelForCausalLM.from_pretrained(os.path.join(HF, name), attn_implementation="eager", dtype=torch.float32)
    ids = [[int(x) for x in r.split(",")] for r in ids_of(name).split(";")]
    return model, ids


def transformerlens_cache():
    """gpt2 as HookedTransformer.from_pretrained_no_processing would record it: the same names, plus the
    LayerNorms' hook_scale, saved as {**cache.cache_dict, "logits": logits}."""
    model, ids = eager_model("gpt2")
    cache = {}
    rec = capture_hf.Recorder(None, None, None, lambda g, label: cache.update(g), len(ids))
    hooks = capture_hf.install_hooks(model, "gpt2", model.config, rec)
    eps = model.config.layer_norm_epsilon

    def scale(x):  # TransformerLens LayerNorm.hook_scale: sqrt(var + eps) of the centred input, (B, T, 1)
        x = x - x.mean(-1, keepdim=True)
        return (x.pow(2).mean(-1, keepdim=True) + eps).sqrt()

    with torch.no_grad():
        model(input_ids=torch.tensor(ids), use_cache=False)
    rec.on_group(rec.group, rec.label)
    for h in hooks:
        h.remove()
    for i in range(model.config.n_layer):
        cache[f"blocks.{i}.ln1.hook_scale"] = scale(cache[f"blocks.{i}.hook_resid_pre"])
        cache[f"blocks.{i}.ln2.hook_scale"] = scale(cache[f"blocks.{i}.hook_resid_mid"])
    cache["ln_final.hook_scale"] = scale(cache[f"blocks.{model.config.n_layer - 1}.hook_resid_post"])
    torch.save(cache, os.path.join(OUT, "gpt2_transformerlens.pt"))


def nnsight_saved():
    """llama's module inputs and outputs keyed as nnsight names them (`model.layers.0.mlp.output`)."""
    model, ids = eager_model("llama")
    saved, hooks = {}, []
    wanted = ("input_layernorm", "post_attention_layernorm", "self_attn", "q_proj", "k_proj", "v_proj", "o_proj",
              "mlp", "gate_proj", "up_proj", "down_proj")
    for path, module in model.named_modules():
        last = path.rsplit(".", 1)[-1]
        if not (last in wanted or path.endswith(tuple(f"layers.{i}" for i in range(8))) or path in ("model.norm", "lm_head")):
            continue

        def fwd(m, args, kwargs, out, path=path):
            x = args[0] if args else kwargs.get("hidden_states")
            saved[f"{path}.input"] = x.detach().clone()
            saved[f"{path}.output"] = tuple(o.detach().clone() if isinstance(o, torch.Tensor) else o for o in out) \
                if isinstance(out, tuple) else out.detach().clone()
        hooks.append(module.register_forward_hook(fwd, with_kwargs=True))
    with torch.no_grad():
        model(input_ids=torch.tensor(ids), use_cache=False)
    for h in hooks:
        h.remove()
    # nnsight saves tuples as tuples; None entries (no attention weights) cannot be saved with weights_only.
    saved = {k: tuple(x for x in v if x is not None) if isinstance(v, tuple) else v for k, v in saved.items()}
    torch.save(saved, os.path.join(OUT, "llama_nnsight.pt"))


def main():
    os.makedirs(OUT, exist_ok=True)
    cap = os.path.join("tools", "capture", "capture_hf.py")
    for name in ["gpt2", "llama", "mistral", "qwen2", "gemma"]:
        run(cap, os.path.join(HF, name), "--ids", ids_of(name), "--out", os.path.join(OUT, f"{name}.trace.safetensors"))
    folder = os.path.join(OUT, "llama_offload.trace")
    shutil.rmtree(folder, ignore_errors=True)
    offload = os.path.join("/tmp", "inspector-capture-offload")
    run(cap, os.path.join(HF, "llama"), "--ids", ids_of("llama"), "--out", folder, "--device-map", "auto",
        "--max-memory", json.dumps({"cpu": "105KB"}), "--offload-folder", offload)
    # The options: some hooks, one layer, three positions, stored as BF16.
    run(cap, os.path.join(HF, "llama"), "--ids", ids_of("llama"), "--out", os.path.join(OUT, "llama_subset.trace.safetensors"),
        "--hooks", "blocks.*.hook_resid_post,blocks.*.attn.hook_pattern,logits", "--layers", "1", "--positions", "0,3,6",
        "--dtype", "bf16")
    transformerlens_cache()
    run(os.path.join("tools", "capture", "convert_transformerlens.py"), os.path.join(OUT, "gpt2_transformerlens.pt"),
        "--config", os.path.join(HF, "gpt2", "config.json"), "--ids", ids_of("gpt2"),
        "--out", os.path.join(OUT, "gpt2_from_transformerlens.trace.safetensors"))
    nnsight_saved()
    run(os.path.join("tools", "capture", "convert_nnsight.py"), os.path.join(OUT, "llama_nnsight.pt"),
        "--config", os.path.join(HF, "llama", "config.json"), "--ids", ids_of("llama"),
        "--out", os.path.join(OUT, "llama_from_nnsight.trace.safetensors"))


if __name__ == "__main__":
    main()
