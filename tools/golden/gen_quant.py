#!/usr/bin/env python3
"""Golden references for engine/quant (issue 12): RTN, int8 absmax, LLM.int8(), GPTQ and AWQ on the golden
tiny Llama (test/fixtures/hf/llama), with a fixed calibration and evaluation input.

    /work/venv/bin/python tools/golden/gen_quant.py          # rewrite test/fixtures/quant/golden.*

The model runs in Hugging Face transformers' LlamaForCausalLM (eager attention). Each method is a compact
re-implementation of its authors' published reference code:
  - RTN grid and GPTQ: IST-DASLab/gptq `quant.py` (Quantizer.find_params / quantize) and `gptq.py`
    (GPTQ.add_batch, GPTQ.fasterquant: dead columns, act-order, 1% dampening, Cholesky of H^-1, lazy blocks
    of 128, group parameters from the outer W), with AutoGPTQ's g_idx for act-order groups.
  - AWQ: mit-han-lab/llm-awq `awq/quantize/auto_scale.py` (_search_module_scale: 20-point grid of
    s = x_mean^ratio, normalised by sqrt(max*min)) and `auto_clip.py` (auto_clip_layer: 10 shrink steps
    of 1/20, q/k skipped), with GPTQ's grid as the quantizer (see docs/quantization.md).
  - LLM.int8(): the paper's Eq. (3) (Dettmers et al. 2022): vector-wise absmax int8 outside the outlier
    dimensions (|x| >= threshold anywhere), float inside them.
Every layer is quantized when the forward pass first reaches it (forward pre-hooks), so later layers see
the already-quantized earlier ones, exactly as engine/quant/quantize-model.ts does. Precision choices that
the reference code leaves to float32 follow the engine's (float64 GPTQ updates and loss sums, float32
grids), so that the integer codes can be compared for equality.

Writes test/fixtures/quant/golden.json (inputs, per-layer errors, end-to-end figures) and
test/fixtures/quant/golden.safetensors (codes U8, or I8 for signed int8; scales F32; zeros and g_idx F16, exact small integers).
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "test", "fixtures", "hf", "llama")
OUT = os.path.join(ROOT, "test", "fixtures", "quant")

CONFIGS = [
    {"key": "int8_channel", "method": "int8", "bits": 8},
    {"key": "int8_tensor", "method": "int8", "bits": 8, "perTensor": True},
    {"key": "rtn4_g16", "method": "rtn", "bits": 4, "group": 16},
    {"key": "rtn3_sym", "method": "rtn", "bits": 3, "sym": True},
    {"key": "llm_int8_t2", "method": "llm-int8", "bits": 8, "threshold": 2.0},
    {"key": "gptq4_g16", "method": "gptq", "bits": 4, "group": 16},
    {"key": "gptq3_act_g16", "method": "gptq", "bits": 3, "group": 16, "actOrder": True},
    {"key": "gptq4_row", "method": "gptq", "bits": 4},
    {"key": "awq4_g16", "method": "awq", "bits": 4, "group": 16},
]


# ------------------------------------------------------------------ grids (gptq quant.py)


def find_params(w32, maxq, sym):
    """w32 [N, g] float32 -> scale [N] float32, zero [N] float32 (integers)."""
    zero_t = torch.zeros(w32.shape[0], dtype=torch.float32)
    xmin = torch.minimum(w32.min(1).values, zero_t)
    xmax = torch.maximum(w32.max(1).values, zero_t)
    if sym:
        xmax = torch.maximum(xmin.abs(), xmax)
        neg = xmin < 0
        xmin[neg] = -xmax[neg]
    both = (xmin == 0) & (xmax == 0)
    xmin[both] = -1
    xmax[both] = 1
    scale = (xmax - xmin) / maxq
    zero = torch.full_like(scale, (maxq + 1) / 2) if sym else torch.round(-xmin / scale)
    return scale, zero


def quantize_codes(w, scale, zero, maxq):
    return torch.clamp(torch.round(w.float() / scale) + zero, 0, maxq)


def rtn(w, bits, group, sym):
    N, K = w.shape
    g = group or K
    maxq = 2**bits - 1
    q = torch.zeros(N, K)
    scales, zeros = [], []
    for j in range(K // g):
        s, z = find_params(w[:, j * g:(j + 1) * g], maxq, sym)
        q[:, j * g:(j + 1) * g] = quantize_codes(w[:, j * g:(j + 1) * g], s[:, None], z[:, None], maxq)
        scales.append(s)
        zeros.append(z)
    gidx = torch.arange(K) // g
    return q, torch.stack(scales, 1), torch.stack(zeros, 1), gidx


def int8_absmax(w, per_tensor):
    absmax = w.abs().max().expand(w.shape[0]) if per_tensor else w.abs().max(1).values
    scale = torch.where(absmax == 0, torch.ones_like(absmax), absmax / 127)
    q = torch.clamp(torch.round(w / scale[:, None]), -127, 127)
    return q, scale[:, None], torch.zeros(w.shape[0], 1), torch.zeros(w.shape[1], dtype=torch.long)


def dequant(q, scales, zeros, gidx, input_scale=None):
    w = (scales[:, gidx] * (q - zeros[:, gidx])).float()
    return w / input_scale[None, :] if input_scale is not None else w


# ------------------------------------------------------------------ GPTQ (gptq.py fasterquant)


def gptq(w32, H, bits, group, sym, act_order, blocksize=128, percdamp=0.01):
    N, K = w32.shape
    g = group or K
    maxq = 2**bits - 1
    W = w32.double().clone()
    H = H.clone()
    if not group:
        s0, z0 = find_params(w32, maxq, sym)
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    perm = None
    if act_order:
        perm = torch.argsort(torch.diag(H), descending=True, stable=True)
        W = W[:, perm]
        H = H[perm][:, perm]
    damp = percdamp * torch.mean(torch.diag(H))
    H[range(K), range(K)] += damp
    Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    Q = torch.zeros(N, K)
    scales, zeros = [], []
    scale, zero = (s0, z0) if not group else (None, None)
    for i1 in range(0, K, blocksize):
        i2 = min(i1 + blocksize, K)
        W1 = W[:, i1:i2].clone()
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            if group and (i1 + i) % g == 0:
                scale, zero = find_params(W[:, i1 + i:i1 + i + g].float(), maxq, sym)
                scales.append(scale)
                zeros.append(zero)
            w = W1[:, i]
            d = Hinv1[i, i]
            q = quantize_codes(w, scale, zero, maxq)
            Q[:, i1 + i] = q
            qv = (scale * (q - zero)).float().double()
            err1 = (w - qv) / d
            W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err1
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
    gidx = torch.arange(K) // g
    if perm is not None:
        invperm = torch.argsort(perm)
        Q = Q[:, invperm]
        gidx = gidx[invperm]
    if not group:
        scales, zeros = [s0], [z0]
        gidx = torch.zeros(K, dtype=torch.long)
    return Q, torch.stack(scales, 1), torch.stack(zeros, 1), gidx


# ------------------------------------------------------------------ AWQ (auto_scale.py, auto_clip.py)


def awq_group(x, ws, bits, group, sym, names, clip=True):
    """x [M, K] float32; ws list of [N, K] float32 weights reading x."""
    K = x.shape[1]
    x_mean = x.double().abs().mean(0)
    ref = [x @ w.t() for w in ws]
    best = (math.inf, None, None)
    for r in range(20):
        ratio = r / 20
        s = torch.clamp(x_mean**ratio, min=1e-4).float()
        norm = math.sqrt(float(s.max()) * float(s.min()))
        s = (s.double() / norm).float()
        se, count = 0.0, 0
        for w, y0 in zip(ws, ref):
            q, sc, z, gi = rtn(w * s[None, :], bits, group, sym)
            y = x @ dequant(q, sc, z, gi, s).t()
            se += float(((y0.double() - y.double()) ** 2).sum())
            count += y.numel()
        loss = se / count
        if loss < best[0]:
            best = (loss, ratio, s)
    _, alpha, s = best
    xs = x / s[None, :]
    out = []
    for w, name in zip(ws, names):
        wsc = w * s[None, :]
        last = name.split(".")[-1]
        if clip and not any(last.startswith(p) for p in ("q_", "k_", "query", "key", "Wqkv")):
            wsc = awq_clip(wsc, xs, bits, group, sym)
        out.append(rtn(wsc, bits, group, sym) + (s,))
    return alpha, out


def awq_clip(w, xs, bits, group, sym, max_tokens=512):
    N, K = w.shape
    g = group or K
    step = max(1, xs.shape[0] // max_tokens)
    xs = xs[0::step].double()
    out = w.clone()
    for j in range(K // g):
        wg = w[:, j * g:(j + 1) * g]
        xg = xs[:, j * g:(j + 1) * g]
        org_max = wg.abs().max(1).values
        y0 = xg @ wg.double().t()
        best_err = torch.full((N,), 1e9, dtype=torch.float64)
        best_max = org_max.clone()
        for i in range(10):
            max_val = org_max * torch.tensor(1 - i / 20, dtype=torch.float32)
            cur = torch.maximum(torch.minimum(wg, max_val[:, None]), -max_val[:, None])
            rows = []
            for n in range(N):
                q, sc, z, gi = rtn(cur[n:n + 1], bits, g, sym)
                rows.append(dequant(q, sc, z, gi))
            qw = torch.cat(rows, 0)
            err = ((xg @ qw.double().t() - y0) ** 2).mean(0)
            better = err < best_err
            best_err[better] = err[better]
            best_max[better] = max_val[better]
        out[:, j * g:(j + 1) * g] = torch.maximum(torch.minimum(wg, best_max[:, None]), -best_max[:, None])
    return out


# ------------------------------------------------------------------ LLM.int8()


def rowwise_int8(a, skip):
    keep = ~skip
    mx = (a.abs() * keep).max(1).values
    s = torch.where(mx == 0, torch.zeros_like(mx), 127 / mx)
    codes = torch.round(a * s[:, None]) * keep
    return codes, mx


def int8_matmul(x, w, threshold, bias=None):
    skip = (x.abs() >= threshold).any(0)
    cx, ax = rowwise_int8(x, skip)
    cw, aw = rowwise_int8(w, skip)
    acc = cx.double() @ cw.double().t()
    y = acc * ax.double()[:, None] * aw.double()[None, :] / (127 * 127)
    y = y + x[:, skip].double() @ w[:, skip].double().t()
    if bias is not None:
        y = y + bias.double()
    return y.float(), torch.nonzero(skip).flatten().tolist()


def effective_weight(w, outliers):
    skip = torch.zeros(w.shape[1], dtype=torch.bool)
    skip[outliers] = True
    codes, mx = rowwise_int8(w, skip)
    deq = (codes * mx[:, None] / 127).float()
    return torch.where(skip[None, :], w, deq)


# ------------------------------------------------------------------ the sequential driver


def rel(a, b):
    a, b = a.double(), b.double()
    den = a.norm()
    return float((a - b).norm() / den) if den > 0 else 0.0


def linears_of(model):
    return [(name, m) for name, m in model.named_modules() if isinstance(m, torch.nn.Linear) and name != "lm_head"]


def discover(model, calib):
    groups, by_input, called, keep = [], {}, set(), []
    hooks = []
    for name, m in linears_of(model):
        def pre(mod, args, name=name):
            if name in called:
                return
            called.add(name)
            keep.append(args[0])  # alive until the end, so no id is reused
            key = id(args[0])
            if key not in by_input:
                by_input[key] = []
                groups.append(by_input[key])
            by_input[key].append((name, mod))
        hooks.append(m.register_forward_pre_hook(pre))
    with torch.no_grad():
        model(calib)
    for h in hooks:
        h.remove()
    return groups


def quantize_model(model, calib, cfg):
    groups = discover(model, calib)
    group_of = {name: g for g in groups for name, _ in g}
    done, layers, codes = set(), [], {}
    method = cfg["method"]
    threshold = cfg.get("threshold", 6.0)
    B = calib.shape[0]

    def int8_forward(mod):
        def fwd(x):
            K = mod.in_features
            y, _ = int8_matmul(x.reshape(-1, K), mod.weight.data, threshold, mod.bias)
            return y.reshape(*x.shape[:-1], mod.out_features)
        return fwd

    def process(group, x):
        K = group[0][1].in_features
        X = x.reshape(-1, K).float()
        H = None
        if method == "gptq":
            Xd = X.double()
            H = (2 / B) * (Xd.t() @ Xd)
        awq = None
        if method == "awq":
            awq = awq_group(X, [m.weight.data.clone() for _, m in group], cfg["bits"], cfg.get("group"), cfg.get("sym", False), [n for n, _ in group])
        for i, (name, mod) in enumerate(group):
            W = mod.weight.data.clone()
            Y = X @ W.t()
            rep = {"name": name}
            if method == "llm-int8":
                yq, outliers = int8_matmul(X, W, threshold)
                rep["weight_rel_error"] = rel(W, effective_weight(W, outliers))
                rep["output_rel_error"] = rel(Y, yq)
                rep["outlier_dims"] = outliers
            else:
                input_scale = None
                if method == "int8":
                    q, sc, z, gi = int8_absmax(W, cfg.get("perTensor", False))
                elif method == "rtn":
                    q, sc, z, gi = rtn(W, cfg["bits"], cfg.get("group"), cfg.get("sym", False))
                elif method == "gptq":
                    q, sc, z, gi = gptq(W, H, cfg["bits"], cfg.get("group"), cfg.get("sym", False), cfg.get("actOrder", False))
                else:
                    q, sc, z, gi, input_scale = awq[1][i]
                    rep["alpha"] = awq[0]
                deq = dequant(q, sc, z, gi, input_scale)
                rep["weight_rel_error"] = rel(W, deq)
                rep["output_rel_error"] = rel(Y, X @ deq.t())
                mod.weight.data.copy_(deq)
                codes[name] = {"q": q, "scales": sc, "zeros": z, "g_idx": gi, "input_scale": input_scale}
            layers.append(rep)
            done.add(name)

    hooks = []
    for name, m in linears_of(model):
        def pre(mod, args, name=name):
            if name not in done:
                process(group_of[name], args[0])
        hooks.append(m.register_forward_pre_hook(pre))
        if method == "llm-int8":
            m.forward = int8_forward(m)
    with torch.no_grad():
        model(calib)
    for h in hooks:
        h.remove()
    return layers, codes


def end_to_end(fp_logits, q_logits, evals):
    nll_fp = nll_q = kl = agree = count = 0.0
    for lf, lq, ids in zip(fp_logits, q_logits, evals):
        lp = torch.log_softmax(lf.double(), -1)
        lqq = torch.log_softmax(lq.double(), -1)
        for t in range(len(ids) - 1):
            nll_fp -= float(lp[t, ids[t + 1]])
            nll_q -= float(lqq[t, ids[t + 1]])
            kl += float((lp[t].exp() * (lp[t] - lqq[t])).sum())
            agree += float(lf[t].argmax() == lq[t].argmax())
            count += 1
    return {"perplexity_fp": math.exp(nll_fp / count), "perplexity_q": math.exp(nll_q / count),
            "kl_mean": kl / count, "top1_agreement": agree / count, "eval_tokens": int(count)}


# ------------------------------------------------------------------ checkpoint folders (AutoGPTQ, AutoAWQ)


def pack_gptq(q, zeros, bits):
    """auto_gptq QuantLinear.pack (v1 format): q [N, K], zeros [N, G] -> qweight [K*b/32, N], qzeros [G, N*b/32]."""
    per = 32 // bits
    intweight = q.t().to(torch.int64)  # [K, N]
    K, N = intweight.shape
    qweight = torch.zeros(K // per, N, dtype=torch.int64)
    for row in range(K // per):
        for j in range(per):
            qweight[row] |= intweight[row * per + j] << (bits * j)
    z = (zeros.t().to(torch.int64) - 1) & ((1 << bits) - 1)  # [G, N], stored minus one
    G = z.shape[0]
    qzeros = torch.zeros(G, N // per, dtype=torch.int64)
    for col in range(N // per):
        for j in range(per):
            qzeros[:, col] |= z[:, col * per + j] << (bits * j)
    as_i32 = lambda t: ((t + 2**31) % 2**32 - 2**31).to(torch.int32)  # noqa: E731
    return as_i32(qweight), as_i32(qzeros)


AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]


def pack_awq(q, zeros, bits=4):
    """AutoAWQ WQLinear_GEMM.from_linear: q [N, K] -> qweight [K, N/8]; zeros [N, G] -> qzeros [G, N/8]."""
    per = 32 // bits
    def pack(intweight):  # [R, N]
        R, N = intweight.shape
        out = torch.zeros(R, N // per, dtype=torch.int64)
        for col in range(N // per):
            for i in range(per):
                out[:, col] |= intweight[:, col * per + AWQ_ORDER[i]] << (i * bits)
        return ((out + 2**31) % 2**32 - 2**31).to(torch.int32)
    return pack(q.t().to(torch.int64)), pack(zeros.t().to(torch.int64))


def write_folder(name, model, codes, qconfig, packer, evals):
    """A folder with config.json (+ quantization_config), model.safetensors in the packing, the tokenizer,
    and expected.safetensors: each dequantized weight and the logits of LlamaForCausalLM run on them."""
    import shutil
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    cfg["quantization_config"] = qconfig
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(MODEL, f), os.path.join(d, f))
    sd = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    expected = {}
    for layer, c in codes.items():
        del sd[layer + ".weight"]
        scales16 = c["scales"].to(torch.float16)
        deq = (scales16.float()[:, c["g_idx"]] * (c["q"] - c["zeros"][:, c["g_idx"]])).float()
        expected[layer + ".weight"] = deq.contiguous()
        model.get_submodule(layer).weight.data.copy_(deq)
        packed = packer(c)
        sd.update({layer + "." + k: v.contiguous() for k, v in packed.items()})
        sd[layer + ".scales"] = scales16.t().contiguous()
    save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    with torch.no_grad():
        for i, e in enumerate(evals):
            expected[f"logits.{i}"] = model(torch.tensor([e])).logits[0].contiguous()
    save_file(expected, os.path.join(d, "expected.safetensors"))


def folders(calib, evals):
    # AutoGPTQ: 4-bit, groups of 16, desc_act (act-order) so that g_idx is a permutation of groups.
    model = LlamaForCausalLM.from_pretrained(MODEL, attn_implementation="eager", dtype=torch.float32).eval()
    _, codes = quantize_model(model, calib, {"method": "gptq", "bits": 4, "group": 16, "actOrder": True})
    model = LlamaForCausalLM.from_pretrained(MODEL, attn_implementation="eager", dtype=torch.float32).eval()
    def gptq_packer(c):
        qweight, qzeros = pack_gptq(c["q"], c["zeros"], 4)
        return {"qweight": qweight, "qzeros": qzeros, "g_idx": c["g_idx"].to(torch.int32)}
    write_folder("gptq-llama", model, codes, {"quant_method": "gptq", "bits": 4, "group_size": 16, "desc_act": True, "sym": False,
                                              "damp_percent": 0.01, "static_groups": False, "true_sequential": True,
                                              "checkpoint_format": "gptq"}, gptq_packer, evals)
    # AutoAWQ GEMM: 4-bit, groups of 16, zero points. The codes are RTN's (s = 1: nothing to fold), which
    # exercises the packing and the dequantization; AWQ's scales live in the preceding ops.
    model = LlamaForCausalLM.from_pretrained(MODEL, attn_implementation="eager", dtype=torch.float32).eval()
    _, codes = quantize_model(model, calib, {"method": "rtn", "bits": 4, "group": 16})
    model = LlamaForCausalLM.from_pretrained(MODEL, attn_implementation="eager", dtype=torch.float32).eval()
    def awq_packer(c):
        qweight, qzeros = pack_awq(c["q"], c["zeros"])
        return {"qweight": qweight, "qzeros": qzeros}
    write_folder("awq-llama", model, codes, {"quant_method": "awq", "bits": 4, "group_size": 16, "zero_point": True,
                                             "version": "gemm"}, awq_packer, evals)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(12)
    calib = torch.randint(3, 128, (4, 16), generator=g)
    evals = torch.randint(3, 128, (3, 12), generator=g).tolist()
    fixture = {"model": "test/fixtures/hf/llama", "calib_ids": calib.tolist(), "eval_ids": evals,
               "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
               "configs": []}
    tensors = {}
    for cfg in CONFIGS:
        model = LlamaForCausalLM.from_pretrained(MODEL, attn_implementation="eager", dtype=torch.float32).eval()
        with torch.no_grad():
            fp = [model(torch.tensor([e])).logits[0] for e in evals]
        layers, codes = quantize_model(model, calib, cfg)
        with torch.no_grad():
            q = [model(torch.tensor([e])).logits[0] for e in evals]
        entry = dict(cfg)
        entry["layers"] = layers
        entry.update(end_to_end(fp, q, evals))
        fixture["configs"].append(entry)
        for name, c in codes.items():
            p = f"{cfg['key']}.{name}"
            q = c["q"]
            tensors[p + ".q"] = (q.to(torch.int8) if q.min() < 0 else q.to(torch.uint8)).contiguous()
            tensors[p + ".scales"] = c["scales"].float().contiguous()
            tensors[p + ".zeros"] = c["zeros"].to(torch.float16).contiguous()
            tensors[p + ".g_idx"] = c["g_idx"].to(torch.float16).contiguous()
            if c["input_scale"] is not None:
                tensors[p + ".input_scale"] = c["input_scale"].float().clone().contiguous()
        print(cfg["key"], {k: round(entry[k], 6) for k in ("perplexity_fp", "perplexity_q", "kl_mean", "top1_agreement")}, file=sys.stderr)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(fixture, f, indent=1)
    save_file(tensors, os.path.join(OUT, "golden.safetensors"), metadata={"source": "tools/golden/gen_quant.py"})
    folders(calib, evals)


if __name__ == "__main__":
    main()
