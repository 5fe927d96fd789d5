"""Cross-check of the Hugging Face fixtures against the real transformers classes.

The fixtures in test/fixtures/hf/ are written by gen_hf.py from compact re-implementations of each
family's modeling code (PyTorch only). When transformers is installed, this loads every fixture
folder with `from_pretrained` (the class named in config.json's `architectures`), runs it on the
fixture's input in fp32 (eager attention) and requires its logits to equal `expected.safetensors`
within fp32 noise (CHECK_TOL relative to the largest |logit|). gen_hf.py calls it after writing;
standalone:

    /work/venv/bin/python tools/golden/hf_ref/transformers_check.py [--json]

Tests never need Python: the versions used and the agreement are recorded in tools/golden/HF.md.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(ROOT, "test", "fixtures", "hf")
CHECK_TOL = 1e-5


def available():
    try:
        import transformers  # noqa: F401
        import safetensors  # noqa: F401
        return True
    except ImportError:
        return False


def check_case(folder):
    import torch
    import transformers
    from safetensors.torch import load_file

    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(folder, "input.json")) as f:
        inp = json.load(f)
    arch = cfg["architectures"][0]
    cls = getattr(transformers, arch)
    overrides = {}
    if cfg["model_type"] == "deepseek_v2" and cfg.get("n_routed_experts") is None:
        # DeepSeek's remote code reads n_routed_experts = null as "no MoE layer"; transformers' port wants an
        # int: the same dense model is every layer before first_k_dense_replace.
        overrides = {"n_routed_experts": 1, "n_shared_experts": 1, "first_k_dense_replace": cfg["num_hidden_layers"]}
    keep = {k: v for k, v in cfg.items() if k not in ("model_type", "transformers_version")}
    config = transformers.AutoConfig.for_model(cfg["model_type"], **{**keep, **overrides})
    model = cls.from_pretrained(folder, config=config, dtype=torch.float32, attn_implementation="eager").eval()
    kwargs = {"input_ids": torch.tensor(inp["input_ids"])}
    for k in ("attention_mask", "token_type_ids", "decoder_input_ids", "decoder_attention_mask"):
        if k in inp:
            kwargs[k] = torch.tensor(inp[k])
    with torch.no_grad():
        logits = model(**kwargs).logits.float()
    want = load_file(os.path.join(folder, "expected.safetensors"))["logits"]
    if tuple(logits.shape) != tuple(want.shape):
        return {"ok": False, "class": arch, "why": f"shape {tuple(logits.shape)} vs {tuple(want.shape)}"}
    rel = ((logits - want).abs().max() / want.abs().max()).item()
    count = sum(p.numel() for p in model.parameters())
    return {"ok": rel < CHECK_TOL, "class": arch, "rel": rel, "num_parameters": count,
            "fixture_num_parameters": inp.get("num_parameters")}


def check_all(fixtures=FIXTURES, out=print):
    """{case: result}; raises AssertionError when a fixture disagrees with transformers."""
    import torch
    import transformers

    torch.set_grad_enabled(False)
    results = {}
    for name in sorted(os.listdir(fixtures)):
        folder = os.path.join(fixtures, name)
        if not os.path.exists(os.path.join(folder, "expected.safetensors")):
            continue
        try:
            results[name] = check_case(folder)
        except Exception as e:  # a family transformers does not load this way is reported, not hidden
            results[name] = {"ok": False, "why": f"{type(e).__name__}: {e}"}
        r = results[name]
        detail = f"logits agree to {r['rel']:.1e}" if "rel" in r else r.get("why", "")
        out(f"transformers {transformers.__version__} {name}: {'ok' if r['ok'] else 'DIFFERS'} ({detail})")
    return results


if __name__ == "__main__":
    if not available():
        print("transformers is not installed: cross-check skipped")
        sys.exit(0)
    res = check_all()
    if "--json" in sys.argv:
        print(json.dumps(res, indent=1))
    sys.exit(0 if all(r["ok"] for r in res.values()) else 1)
