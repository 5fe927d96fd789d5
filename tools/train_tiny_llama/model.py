"""A Llama decoder in plain PyTorch (1.13), following Hugging Face's modeling_llama.py in every convention
that changes the numbers:

- LlamaRMSNorm: x * rsqrt(mean(x^2, -1) + eps), computed in fp32, then times the weight (no bias, no 1+w);
- rotary embedding: inv_freq = 1 / theta^(arange(0, head_dim, 2) / head_dim), freqs = pos * inv_freq,
  emb = cat(freqs, freqs), q' = q*cos + rotate_half(q)*sin with rotate_half(x) = cat(-x2, x1)
  (the "half" layout: dim j pairs with j + head_dim/2, not with j+1);
- attention: q/k/v/o projections without bias, grouped-query attention where query head h reads key/value
  head h // (num_heads / num_kv_heads) (repeat_kv = repeat_interleave on the head axis),
  scores q k^T / sqrt(head_dim), causal mask, softmax in fp32;
- MLP: down(silu(gate(x)) * up(x));
- decoder layer: x + attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x));
- model: embed_tokens, the layers, a final norm, and lm_head (untied here: tie_word_embeddings = false).

Parameter names are the Hugging Face ones, so state_dict() keys are what LlamaForCausalLM saves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F


@dataclass
class LlamaConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    max_position_embeddings: int
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_cos_sin(head_dim: int, theta: float, positions: torch.Tensor):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    freqs = positions.float()[:, None] * inv_freq[None, :]  # [T, head_dim/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, head_dim]
    return emb.cos(), emb.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        d, hd = cfg.hidden_size, cfg.head_dim
        self.q_proj = nn.Linear(d, cfg.num_attention_heads * hd, bias=False)
        self.k_proj = nn.Linear(d, cfg.num_key_value_heads * hd, bias=False)
        self.v_proj = nn.Linear(d, cfg.num_key_value_heads * hd, bias=False)
        self.o_proj = nn.Linear(cfg.num_attention_heads * hd, d, bias=False)

    def forward(self, x, cos, sin, mask, want_pattern=False):
        cfg = self.cfg
        B, T, _ = x.shape
        H, KV, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        q = self.q_proj(x).view(B, T, H, hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, KV, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = H // KV
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        scores = (q @ k.transpose(2, 3)) / math.sqrt(hd)
        scores = scores + mask
        pattern = F.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        out = (pattern @ v).transpose(1, 2).reshape(B, T, H * hd)
        return self.o_proj(out), (pattern if want_pattern else None)


class MLP(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, mask, want_pattern=False):
        a, pattern = self.self_attn(self.input_layernorm(x), cos, sin, mask, want_pattern)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, pattern


class Backbone(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.model = Backbone(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        self.apply(self._init)

    @staticmethod
    def _init(m):
        # LlamaPreTrainedModel._init_weights: normal(0, initializer_range = 0.02), norms at 1
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, ids: torch.Tensor, want_patterns: bool = False):
        B, T = ids.shape
        cos, sin = rope_cos_sin(self.cfg.head_dim, self.cfg.rope_theta, torch.arange(T))
        mask = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)
        x = self.model.embed_tokens(ids)
        patterns = []
        for layer in self.model.layers:
            x, p = layer(x, cos, sin, mask, want_patterns)
            patterns.append(p)
        logits = self.lm_head(self.model.norm(x))
        return (logits, patterns) if want_patterns else logits
