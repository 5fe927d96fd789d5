#!/usr/bin/env python3
"""Record a Hugging Face model's forward pass as a Transformer Inspector trace (docs/trace-format.md).

    python tools/capture/capture_hf.py MODEL_DIR (--ids 1,2,3 | --text "…") --out run.trace.safetensors
        [--hooks 'blocks.*.attn.hook_pattern,logits'] [--layers 0,5,31] [--dtype f32|f16|bf16]
        [--positions 0,7] [--device-map auto [--max-memory '{"cpu": "200KB"}'] [--offload-folder DIR]]

Forward hooks on each family's modules (GPT-2; Llama, Mistral, Qwen2, Gemma) record every activation under
the inspector's hook name (TransformerLens's names); attention patterns come from eager attention, and the
rotated queries/keys from an attention function registered beside it that calls the family's own eager one.
Each tensor is moved to the CPU as soon as it is produced, so GPU memory is not held; with an output folder
(`--out run.trace`) every layer is written to its own shard as soon as it is complete, so neither is the
CPU's. `--device-map auto` loads the model through accelerate (several GPUs, the CPU, disk offload when
`--max-memory` is small): the hooks are the same, the modules run wherever accelerate placed them.

Needs only what the model needs: torch, transformers (with safetensors), and accelerate for --device-map.
"""
import argparse
import fnmatch
import json
import os
import sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AttentionInterface
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_writer import ShardedTraceWriter, keep_positions, manifest, save_trace  # noqa: E402

TOOL = "tools/capture/capture_hf.py"
LLAMA_LIKE = ("llama", "mistral", "qwen2", "gemma")
ROTARY = set(LLAMA_LIKE)


class Recorder:
    """Collects hook tensors (filtered, positions kept, moved to the CPU) and hands complete groups on."""

    def __init__(self, patterns, layers, positions, on_group, batch):
        self.patterns, self.layers, self.positions, self.on_group = patterns, layers, positions, on_group
        self.batch = batch
        self.group, self.label = {}, "embed"

    def wanted(self, name):
        if self.layers is not None and name.startswith("blocks."):
            if int(name.split(".")[1]) not in self.layers:
                return False
        return self.patterns is None or any(fnmatch.fnmatchcase(name, p) for p in self.patterns)

    def record(self, name, t):
        if self.wanted(name):
            self.group[name] = keep_positions(name, t.detach(), self.positions).to("cpu", copy=True)

    def start_group(self, label):
        """A new layer begins: the previous group is complete (put in the inspector's step order)."""
        self.on_group(dict(sorted(self.group.items(), key=lambda kv: step_order(kv[0]))), self.label)
        self.group, self.label = {}, label


# A layer's hooks in the order the inspector's stepper computes them (forward hooks fire in another order).
LAYER_ORDER = ["hook_resid_pre", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_rot_q",
               "attn.hook_rot_k", "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z", "hook_attn_out",
               "hook_resid_mid", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_pre_linear", "mlp.hook_post",
               "hook_mlp_out", "hook_resid_post"]
TOP_ORDER = ["hook_embed", "hook_pos_embed", "ln_final.hook_normalized", "logits"]


def step_order(name):
    if name.startswith("blocks."):
        _, i, rest = name.split(".", 2)
        return (1, int(i), LAYER_ORDER.index(rest))
    return (0 if TOP_ORDER.index(name) < 2 else 2, 0, TOP_ORDER.index(name))


def heads(t, n):
    """(B, T, n·d) → (B, T, n, d), the layout of hook_q/k/v/z."""
    B, T, _ = t.shape
    return t.reshape(B, T, n, -1)


def first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def hidden_input(args, kwargs):
    return args[0] if args else kwargs["hidden_states"]


def install_hooks(model, family, cfg, rec):
    """Forward (pre-)hooks that name every activation as the inspector does."""
    hs = []

    def out_hook(module, name, fn=lambda o: first(o)):
        hs.append(module.register_forward_hook(lambda m, a, o: rec.record(name, fn(o))))

    def in_hook(module, name, fn=lambda x: x):
        hs.append(module.register_forward_pre_hook(lambda m, a, k: rec.record(name, fn(hidden_input(a, k))), with_kwargs=True))

    def layer_start(module, i):
        def pre(m, a, k):
            rec.start_group(f"layer{i}")
            rec.record(f"blocks.{i}.hook_resid_pre", hidden_input(a, k))
            if i == 0 and family in LLAMA_LIKE:  # the (scaled, for Gemma) embedding is block 0's input
                rec.record("hook_embed", hidden_input(a, k))
        hs.append(module.register_forward_pre_hook(pre, with_kwargs=True))

    def head_start(final_norm):
        hs.append(final_norm.register_forward_pre_hook(lambda m, a: rec.start_group("head")))

    H = cfg.num_attention_heads
    if family == "gpt2":
        base = model.transformer
        out_hook(base.wte, "hook_embed")
        # wpe(position_ids) is [1, T, d]; the inspector records it per batch element.
        B = rec.batch
        out_hook(base.wpe, "hook_pos_embed", lambda o: o.expand(B, -1, -1))
        d = cfg.n_embd
        for i, layer in enumerate(base.h):
            p = f"blocks.{i}"
            layer_start(layer, i)
            out_hook(layer.ln_1, f"{p}.ln1.hook_normalized")
            for j, part in enumerate("qkv"):
                out_hook(layer.attn.c_attn, f"{p}.attn.hook_{part}", lambda o, j=j: heads(o[..., j * d:(j + 1) * d], H))
            out_hook(layer.attn, f"{p}.attn.hook_pattern", lambda o: o[1])
            in_hook(layer.attn.c_proj, f"{p}.attn.hook_z", lambda x: heads(x, H))
            out_hook(layer.attn, f"{p}.hook_attn_out")
            in_hook(layer.ln_2, f"{p}.hook_resid_mid")
            out_hook(layer.ln_2, f"{p}.ln2.hook_normalized")
            out_hook(layer.mlp.c_fc, f"{p}.mlp.hook_pre")
            in_hook(layer.mlp.c_proj, f"{p}.mlp.hook_post")
            out_hook(layer.mlp, f"{p}.hook_mlp_out")
            out_hook(layer, f"{p}.hook_resid_post")
        head_start(base.ln_f)
        out_hook(base.ln_f, "ln_final.hook_normalized")
    else:
        base = model.model
        Hkv = cfg.num_key_value_heads
        for i, layer in enumerate(base.layers):
            p, att, mlp = f"blocks.{i}", layer.self_attn, layer.mlp
            layer_start(layer, i)
            out_hook(layer.input_layernorm, f"{p}.ln1.hook_normalized")
            out_hook(att.q_proj, f"{p}.attn.hook_q", lambda o: heads(o, H))
            out_hook(att.k_proj, f"{p}.attn.hook_k", lambda o: heads(o, Hkv))
            out_hook(att.v_proj, f"{p}.attn.hook_v", lambda o: heads(o, Hkv))
            out_hook(att, f"{p}.attn.hook_pattern", lambda o: o[1])
            in_hook(att.o_proj, f"{p}.attn.hook_z", lambda x: heads(x, H))
            out_hook(att, f"{p}.hook_attn_out")
            in_hook(layer.post_attention_layernorm, f"{p}.hook_resid_mid")
            out_hook(layer.post_attention_layernorm, f"{p}.ln2.hook_normalized")
            out_hook(mlp.gate_proj, f"{p}.mlp.hook_pre")
            out_hook(mlp.up_proj, f"{p}.mlp.hook_pre_linear")
            in_hook(mlp.down_proj, f"{p}.mlp.hook_post")
            out_hook(mlp, f"{p}.hook_mlp_out")
            out_hook(layer, f"{p}.hook_resid_post")
        head_start(base.norm)
        out_hook(base.norm, "ln_final.hook_normalized")
    out_hook(model.lm_head, "logits")
    return hs


def register_rotary_capture(rec):
    """An attention function that calls the family's own eager attention and records the rotated q and k
    it is given ((B, H, T, d) → the inspector's (B, T, H, d)). Registered under a name of its own."""
    def inspector_eager(module, query, key, value, attention_mask, **kwargs):
        eager = sys.modules[type(module).__module__].eager_attention_forward
        i = module.layer_idx
        rec.record(f"blocks.{i}.attn.hook_rot_q", query.transpose(1, 2))
        rec.record(f"blocks.{i}.attn.hook_rot_k", key.transpose(1, 2))
        return eager(module, query, key, value, attention_mask, **kwargs)
    AttentionInterface.register("inspector_eager", inspector_eager)
    # The masks an implementation gets are chosen by its name too: give it eager attention's.
    AttentionMaskInterface.register("inspector_eager", ALL_MASK_ATTENTION_FUNCTIONS["eager"])
    return "inspector_eager"


def parse_list(s):
    return None if s is None else [int(x) for x in s.split(",") if x.strip() != ""]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a model folder (config.json + weights) or a hub name")
    ap.add_argument("--ids", help="token ids, comma-separated; ';' between sequences of a batch")
    ap.add_argument("--text", help="text, through the model's tokenizer")
    ap.add_argument("--out", required=True, help="NAME.trace.safetensors (one file) or NAME.trace (a folder of shards)")
    ap.add_argument("--hooks", help="comma-separated glob patterns over hook names (default: all)")
    ap.add_argument("--layers", help="comma-separated layer indices to record (default: all)")
    ap.add_argument("--positions", help="comma-separated positions to keep along pos / query_pos (default: all)")
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"], help="dtype the trace stores")
    ap.add_argument("--device-map", help="passed to from_pretrained (e.g. auto: accelerate places the layers)")
    ap.add_argument("--max-memory", help='JSON, e.g. {"cpu": "200KB"}: with --device-map, forces offload')
    ap.add_argument("--offload-folder", help="where accelerate offloads weights to disk")
    a = ap.parse_args(argv)

    cfg = AutoConfig.from_pretrained(a.model)
    family = cfg.model_type
    if family != "gpt2" and family not in LLAMA_LIKE:
        sys.exit(f"capture_hf.py: model_type {family!r} is not supported yet (gpt2, {', '.join(LLAMA_LIKE)})")
    tokenizer = None
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(a.model)
    except Exception as e:  # a model folder without a (loadable) tokenizer: ids only
        print(f"capture_hf.py: no tokenizer ({str(e).splitlines()[0][:120]}): token strings are not recorded", file=sys.stderr)
        tokenizer = None
    if (a.ids is None) == (a.text is None):
        sys.exit("capture_hf.py: give --ids or --text")
    if a.ids is not None:
        ids = [[int(x) for x in row.split(",")] for row in a.ids.split(";")]
    else:
        if tokenizer is None:
            sys.exit("capture_hf.py: --text needs a tokenizer beside the model")
        ids = [tokenizer(a.text, add_special_tokens=False)["input_ids"]]
    tokens = [tokenizer.convert_ids_to_tokens(row) for row in ids] if tokenizer is not None else None
    positions = parse_list(a.positions)
    layers = parse_list(a.layers)
    patterns = a.hooks.split(",") if a.hooks else None

    config_path = os.path.join(a.model, "config.json")
    config = json.load(open(config_path)) if os.path.isfile(config_path) else cfg.to_dict()
    library = f"transformers {transformers.__version__}, torch {torch.__version__}"
    if a.device_map:
        import accelerate
        library += f", accelerate {accelerate.__version__} (device_map={a.device_map})"

    def make_manifest(hooks, shard=None):
        return manifest(TOOL, library, config, ids, tokens, a.dtype, hooks, positions, shard)

    sharded = not a.out.endswith(".safetensors")
    all_tensors = {}
    if sharded:
        n_layers = cfg.num_hidden_layers if family != "gpt2" else cfg.n_layer
        writer = ShardedTraceWriter(a.out, 2 + n_layers, make_manifest, a.dtype)
        on_group = writer.write
    else:
        on_group = lambda group, label: all_tensors.update(group)  # noqa: E731
    rec = Recorder(patterns, set(layers) if layers is not None else None, positions, on_group, len(ids))

    attn = register_rotary_capture(rec) if family in ROTARY else "eager"
    kwargs = {"attn_implementation": attn, "dtype": torch.float32}
    if a.device_map:
        kwargs["device_map"] = a.device_map
        if a.max_memory:
            kwargs["max_memory"] = json.loads(a.max_memory)
        if a.offload_folder:
            kwargs["offload_folder"] = a.offload_folder
    model = AutoModelForCausalLM.from_pretrained(a.model, **kwargs)
    model.eval()
    hooks = install_hooks(model, family, cfg, rec)
    # With a device map, accelerate's hooks move the input to each module's device.
    device = "cpu" if a.device_map else next(model.parameters()).device
    with torch.no_grad():
        model(input_ids=torch.tensor(ids, device=device), use_cache=False)
    for h in hooks:
        h.remove()
    rec.on_group(rec.group, rec.label)
    if sharded:
        writer.close()
    else:
        save_trace(a.out, all_tensors, make_manifest(list(all_tensors)), a.dtype)
    placement = getattr(model, "hf_device_map", None)
    print(f"wrote {a.out}" + (f" (device map: {placement})" if placement else ""))


if __name__ == "__main__":
    main()
