"""Shared pieces of the Hugging Face golden generator: safetensors I/O written by hand, config.json as
`save_pretrained` writes it, the hook recorder, random weights with a spread, and the small numeric
building blocks (norms, activations, RoPE, attention) that the family references are made of.

Everything here is plain PyTorch 1.13 (no transformers / safetensors package); each building block
follows the arithmetic of the Hugging Face code it stands for, in the same order of operations.
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

# The config.json files are written as transformers 4.46's `PretrainedConfig.save_pretrained` writes
# them (keys sorted, indent 2, class-specific keys always present, `torch_dtype` and `architectures`
# set by `PreTrainedModel.save_pretrained`). See tools/golden/HF.md for how each key set was derived.
TRANSFORMERS_VERSION = "4.46.3"

_ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
_ST_BACK = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}
_SAME_SIZE_INT = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16,
                  torch.int64: torch.int64}


def _raw_bytes(t):
    t = t.detach().contiguous().cpu()
    # bfloat16 has no numpy dtype: reinterpret every dtype as a same-width integer (little endian host).
    return t.view(_SAME_SIZE_INT[t.dtype]).numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout: u64 LE header length, a JSON header {name: {dtype, shape,
    data_offsets: [begin, end]}} (+ optional __metadata__ of strings) padded with spaces to a multiple
    of 8, then the tensors' bytes back to back in header order (here: sorted by name)."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = _raw_bytes(t)
        header[name] = {"dtype": _ST_DTYPE[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Independent reader, used to check every file written round-trips bit for bit."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded to 8"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out, meta = {}, header.pop("__metadata__", None)
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = _ST_BACK[info["dtype"]]
        ints = torch.frombuffer(bytearray(raw[base + b:base + e]), dtype=_SAME_SIZE_INT[dt])
        out[name] = ints.view(dt).reshape(info["shape"]).clone()
    return out, meta


def write_config(path, cfg):
    """`PretrainedConfig.to_json_file`: json.dumps(indent=2, sort_keys=True) + newline."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def write_json(path, obj, sort_keys=False):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n")


# ── the hook recorder ──────────────────────────────────────────────────────────────────────────────

class Recorder:
    """Collects the intermediates under their hook names (F32, contiguous, batch first)."""

    def __init__(self, prefix=""):
        self.store = {}
        self.prefix = prefix

    def __call__(self, name, t):
        full = self.prefix + name
        assert full not in self.store, f"hook {full} recorded twice"
        self.store[full] = t.detach().to(torch.float32).contiguous().clone()
        return t

    def scoped(self, prefix):
        child = Recorder(self.prefix + prefix)
        child.store = self.store
        return child


class NullRecorder(Recorder):
    def __call__(self, name, t):
        return t

    def scoped(self, prefix):
        return self


# ── random weights with a spread ───────────────────────────────────────────────────────────────────

def normal(gen, shape, std, mean=0.0):
    return torch.randn(*shape, generator=gen) * std + mean


def count_parameters(params):
    """`sum(p.numel() for p in model.parameters())`: a tied (shared) Parameter is counted once.
    `params` maps every parameter name of the module tree to its tensor; tied names alias one object."""
    seen, total = set(), 0
    for t in params.values():
        if id(t) in seen:
            continue
        seen.add(id(t))
        total += t.numel()
    return total


def rounded(params, dtype):
    """The weights as the engine sees them after widening a {dtype} file to F32."""
    memo, out = {}, {}
    for k, t in params.items():
        if id(t) not in memo:
            memo[id(t)] = t.to(dtype).to(torch.float32)
        out[k] = memo[id(t)]
    return out


# ── numeric building blocks (each as the HF code computes it) ──────────────────────────────────────

def linear(x, w, b=None):
    """nn.Linear: weight [out, in]."""
    return F.linear(x, w, b)


def conv1d(x, w, b):
    """transformers.pytorch_utils.Conv1D: weight stored [in, out]; y = addmm(b, x, w)."""
    size_out = x.shape[:-1] + (w.shape[1],)
    return torch.addmm(b, x.reshape(-1, x.shape[-1]), w).view(size_out)


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def rms_norm(x, w, eps):
    """LlamaRMSNorm (also Mistral/Qwen2/DeepseekV2): normalise in F32, cast back, then weight * x."""
    dt = x.dtype
    h = x.to(torch.float32)
    var = h.pow(2).mean(-1, keepdim=True)
    h = h * torch.rsqrt(var + eps)
    return w * h.to(dt)


def gemma_rms_norm(x, w, eps):
    """GemmaRMSNorm: weight stored zero-centred, applied as (1 + weight), product taken in F32."""
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    h = h * (1.0 + w.float())
    return h.type_as(x)


def gelu_new(x):
    """ACT2FN['gelu_new'] (NewGELUActivation): the tanh approximation, written out."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACT = {
    "gelu": F.gelu,                                               # exact erf GELU
    "gelu_new": gelu_new,
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "swish": F.silu,
    "relu": F.relu,
}


def rope_inv_freq(dim, theta):
    """LlamaRotaryEmbedding: 1 / theta^(arange(0, dim, 2)/dim), in F32."""
    return 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))


def rope_cos_sin(dim, theta, positions):
    """cos/sin [T, dim] in the rotate_half layout: emb = cat(freqs, freqs)."""
    inv = rope_inv_freq(dim, theta)
    freqs = torch.outer(positions.float(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def apply_rope(x, cos, sin):
    """x [B, T, H, d]; cos/sin [T, d]: x*cos + rotate_half(x)*sin."""
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return x * c + rotate_half(x) * s


def causal_allowed(tq, tk, window=None):
    """Boolean [Tq, Tk] of allowed (query i, key j): j <= i, and with a sliding window W also
    j > i - W (transformers' sliding_window_overlay: kv_idx > q_idx - sliding_window)."""
    i = torch.arange(tq)[:, None]
    j = torch.arange(tk)[None, :]
    ok = j <= i
    if window is not None:
        ok = ok & (j > i - window)
    return ok


def attention(q, k, v, scale, allowed=None, kv_group="repeat"):
    """Eager attention as the HF decoders compute it.

    q [B, Tq, H, d], k [B, Tk, Hkv, d], v [B, Tk, Hkv, dv]; allowed: bool broadcastable to
    [B, H, Tq, Tk]. Grouped K/V are shared as `repeat_kv` does (query head h reads kv head h // n_rep);
    masked scores become finfo(float32).min before a float32 softmax. Returns (pattern, z) with
    pattern [B, H, Tq, Tk] and z [B, Tq, H, dv]."""
    B, Tq, H, _ = q.shape
    Hkv = k.shape[2]
    qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    if Hkv != H:
        n_rep = H // Hkv
        if kv_group == "repeat":
            kh = kh[:, :, None].expand(B, Hkv, n_rep, *kh.shape[2:]).reshape(B, H, *kh.shape[2:])
            vh = vh[:, :, None].expand(B, Hkv, n_rep, *vh.shape[2:]).reshape(B, H, *vh.shape[2:])
        else:  # the wrong convention, for the sensitivity check: head h reads kv head h % Hkv
            kh = kh.repeat(1, n_rep, 1, 1)
            vh = vh.repeat(1, n_rep, 1, 1)
    scores = torch.matmul(qh, kh.transpose(2, 3)) * scale
    if allowed is not None:
        scores = scores.masked_fill(~allowed, torch.finfo(torch.float32).min)
    pattern = F.softmax(scores, dim=-1, dtype=torch.float32).to(qh.dtype)
    z = torch.matmul(pattern, vh).transpose(1, 2).contiguous()
    return pattern, z


def rel_err(a, b):
    """max |a - b| / max |b|: the measure the TypeScript golden tests use (test/helpers/close.ts)."""
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def ensure_dir(p):
    os.makedirs(p, exist_ok=True)
    return p
