#!/usr/bin/env python3
"""Golden reference fixtures for the native (*.transformer.json) engine path.

Run with the system interpreter that has PyTorch 1.13:

    /usr/bin/python3 tools/golden/gen_native.py

Writes test/fixtures/native/<case>/ with
    <case>.transformer.json  the native config
    <case>.safetensors       the weights under the native names (F32)
    input.json               ids (+ decoder_ids, attention_mask), PyTorch's parameter count
    expected.safetensors     every intermediate under the engine's hook name and layout, plus `logits`

Two references:
  * the tutorial model, written below as the widely copied tutorial code (shared-layers quirk included);
  * PyTorch's own torch.nn.Transformer, wrapped with embeddings, sinusoidal positions and an output
    projection, its state dict renamed to the native names.

Intermediates come from forward hooks on the real modules. What no module exposes (per-head q, k, v,
scores, pattern, z) is recomputed from the hooked inputs and checked against the module's own output
before it is written, so every fixture is what PyTorch computed. Everything is deterministic
(torch.manual_seed per case); running the script twice writes identical files.
"""
import json
import math
import os
import shutil
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'native')
MASKED_FILL = -1e9


# ════════════════════════════════════════════════════════════════════════════════════════════════
# The tutorial model, as the widely copied tutorial code writes it.
# ════════════════════════════════════════════════════════════════════════════════════════════════

class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        assert d_model % num_heads == 0, "d_model must be divisible by num_heads"
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.linear_q = nn.Linear(d_model, d_model)
        self.linear_k = nn.Linear(d_model, d_model)
        self.linear_v = nn.Linear(d_model, d_model)
        self.linear_out = nn.Linear(d_model, d_model)

    def scaled_dot_product_attention(self, Q, K, V, mask=None):
        scores = torch.matmul(Q, K.transpose(-2, -1)) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, -1e9)
        attn = torch.softmax(scores, dim=-1)
        return torch.matmul(attn, V)

    def split_heads(self, x):
        B, T, _ = x.size()
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)

    def combine_heads(self, x):
        B, _, T, _ = x.size()
        return x.transpose(1, 2).contiguous().view(B, T, self.d_model)

    def forward(self, Q, K, V, mask=None):
        Q = self.split_heads(self.linear_q(Q))
        K = self.split_heads(self.linear_k(K))
        V = self.split_heads(self.linear_v(V))
        out = self.scaled_dot_product_attention(Q, K, V, mask)
        return self.linear_out(self.combine_heads(out))


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.linear2(self.relu(self.linear1(x)))


class AddNorm(nn.Module):
    """Residual connection around a sublayer, pre-norm: x + dropout(sublayer(norm(x)))."""

    def __init__(self, d_model, dropout):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, sublayer):
        return x + self.dropout(sublayer(self.norm(x)))


class EncoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout):
        super().__init__()
        self.attn = MultiHeadAttention(d_model, num_heads)
        self.addnorm1 = AddNorm(d_model, dropout)
        self.ffn = FeedForward(d_model, d_ff)
        self.addnorm2 = AddNorm(d_model, dropout)

    def forward(self, x, mask):
        x = self.addnorm1(x, lambda x: self.attn(x, x, x, mask))
        x = self.addnorm2(x, self.ffn)
        return x


class Encoder(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, num_layers, dropout):
        super().__init__()
        layer = EncoderLayer(d_model, num_heads, d_ff, dropout)
        self.layers = nn.ModuleList([layer for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x, mask):
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe.unsqueeze(0))

    def forward(self, x):
        return x + self.pe[:, :x.size(1)]


class Transformer(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, d_ff, num_layers, max_len, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pos_encoding = PositionalEncoding(d_model, max_len)
        self.encoder = Encoder(d_model, num_heads, d_ff, num_layers, dropout)
        self.fc_out = nn.Linear(d_model, vocab_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src, src_mask=None):
        x = self.embedding(src)
        x = self.pos_encoding(x)
        x = self.dropout(x)
        x = self.encoder(x, src_mask)
        return self.fc_out(x)


# ── Variants of the tutorial code (each changes only what its name says) ─────────────────────────

class EncoderDistinct(Encoder):
    """The fix for the shared-weights quirk: one EncoderLayer per slot."""

    def __init__(self, d_model, num_heads, d_ff, num_layers, dropout):
        super().__init__(d_model, num_heads, d_ff, num_layers, dropout)
        self.layers = nn.ModuleList([EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers)])


class AddNormPost(AddNorm):
    """Post-norm, as in the 2017 paper: norm(x + dropout(sublayer(x)))."""

    def forward(self, x, sublayer):
        return self.norm(x + self.dropout(sublayer(x)))


def tutorial_model(cfg, distinct, post):
    m = Transformer(cfg['vocab_size'], cfg['d_model'], cfg['num_heads'], cfg['d_ff'], cfg['num_layers'],
                    cfg['max_len'], cfg['dropout'])
    args = (cfg['d_model'], cfg['num_heads'], cfg['d_ff'], cfg['num_layers'], cfg['dropout'])
    if distinct:
        m.encoder = EncoderDistinct(*args)
    if post:
        for layer in m.encoder.layers:
            layer.addnorm1 = AddNormPost(cfg['d_model'], cfg['dropout'])
            layer.addnorm2 = AddNormPost(cfg['d_model'], cfg['dropout'])
    return m


# ════════════════════════════════════════════════════════════════════════════════════════════════
# PyTorch's nn.Transformer with embeddings, sinusoidal positions and an output projection.
# ════════════════════════════════════════════════════════════════════════════════════════════════

class Seq2Seq(nn.Module):
    def __init__(self, vocab, tgt_vocab, d_model, nhead, n_enc, n_dec, d_ff, max_len, dropout, norm_first, scale_embedding):
        super().__init__()
        self.src_embedding = nn.Embedding(vocab, d_model)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d_model)
        self.pos_encoding = PositionalEncoding(d_model, max_len)
        self.transformer = nn.Transformer(d_model, nhead, n_enc, n_dec, d_ff, dropout, batch_first=True,
                                          norm_first=norm_first)
        self.fc_out = nn.Linear(d_model, tgt_vocab)
        self.scale = math.sqrt(d_model) if scale_embedding else 1.0

    def forward(self, src, tgt, pad=None):
        Tt = tgt.size(1)
        tgt_mask = self.transformer.generate_square_subsequent_mask(Tt)  # float, −inf above the diagonal
        src_pad = (src == pad) if pad is not None else None
        tgt_pad = (tgt == pad) if pad is not None else None
        s = self.pos_encoding(self.src_embedding(src) * self.scale)
        t = self.pos_encoding(self.tgt_embedding(tgt) * self.scale)
        h = self.transformer(s, t, tgt_mask=tgt_mask, src_key_padding_mask=src_pad,
                             tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return self.fc_out(h)


def native_state_dict_seq2seq(m):
    """nn.Transformer's parameter names → the engine's native names."""
    sd = {k: v.detach().clone() for k, v in m.state_dict().items()}
    out = {'src_embedding.weight': sd['src_embedding.weight'], 'tgt_embedding.weight': sd['tgt_embedding.weight']}

    def attn(dst, src):
        w = sd[f'{src}.in_proj_weight']
        b = sd[f'{src}.in_proj_bias']
        D = w.shape[1]
        for i, n in enumerate('qkv'):
            out[f'{dst}.linear_{n}.weight'] = w[i * D:(i + 1) * D].clone()
            out[f'{dst}.linear_{n}.bias'] = b[i * D:(i + 1) * D].clone()
        out[f'{dst}.linear_out.weight'] = sd[f'{src}.out_proj.weight']
        out[f'{dst}.linear_out.bias'] = sd[f'{src}.out_proj.bias']

    def copy(dst, src):
        out[f'{dst}.weight'] = sd[f'{src}.weight']
        out[f'{dst}.bias'] = sd[f'{src}.bias']

    for side in ('encoder', 'decoder'):
        stack = getattr(m.transformer, side)
        for i in range(len(stack.layers)):
            s = f'transformer.{side}.layers.{i}'
            d = f'{side}.layers.{i}'
            attn(f'{d}.attn', f'{s}.self_attn')
            norms = 2
            if side == 'decoder':
                attn(f'{d}.cross_attn', f'{s}.multihead_attn')
                norms = 3
            for n in range(1, norms + 1):
                copy(f'{d}.addnorm{n}.norm', f'{s}.norm{n}')
            copy(f'{d}.ffn.linear1', f'{s}.linear1')
            copy(f'{d}.ffn.linear2', f'{s}.linear2')
        copy(f'{side}.norm', f'transformer.{side}.norm')
    copy('fc_out', 'fc_out')
    return out


# ════════════════════════════════════════════════════════════════════════════════════════════════
# Deterministic, deliberately non-default weights.
# ════════════════════════════════════════════════════════════════════════════════════════════════

def randomise(model):
    """LayerNorm gains ≠ 1 and biases ≠ 0 (a wrong norm must fail); projections large enough that
    attention is far from uniform, so a missing 1/√d_k or a wrong mask shows."""
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):  # named_parameters visits shared tensors once
            leaf = name.rsplit('.', 1)[-1]
            is_norm = '.norm' in name
            if 'embedding' in name:
                p.normal_(0.0, 1.0)
            elif is_norm and leaf == 'weight':
                p.copy_(1.0 + 0.4 * torch.randn_like(p))
            elif is_norm and leaf == 'bias':
                p.copy_(0.3 * torch.randn_like(p))
            elif p.dim() == 2:
                p.normal_(0.0, 1.6 / math.sqrt(p.shape[1]))
            else:
                p.normal_(0.0, 0.3)


# ════════════════════════════════════════════════════════════════════════════════════════════════
# Recording intermediates under the engine's hook names.
# ════════════════════════════════════════════════════════════════════════════════════════════════

class Recorder:
    def __init__(self, heads):
        self.heads = heads
        self.tensors = {}
        self.stack = ''       # '' (encoder-only) or 'encoder.' / 'decoder.'
        self.layer = -1
        self.masks = {}       # (stack, kind) → bool [B, Tq, Tk], True = may attend
        self.handles = []

    def block(self):
        return f'{self.stack}blocks.{self.layer}'

    def put(self, name, t):
        assert name not in self.tensors, f'{name} recorded twice'
        self.tensors[name] = t.detach().to(torch.float32).contiguous().clone()

    def hook(self, module, fn, pre=False):
        h = module.register_forward_pre_hook(fn) if pre else module.register_forward_hook(fn)
        self.handles.append(h)

    def close(self):
        for h in self.handles:
            h.remove()

    def attention(self, kind, xq, xkv, wq, bq, wk, bk, wv, bv, wo, bo, actual_out):
        """Per-head q/k/v, scores, pattern and z, recomputed from the module's own inputs and weights and
        checked against the module's output before they are recorded."""
        B, Tq, D = xq.shape
        Tk = xkv.shape[1]
        H = self.heads
        dk = D // H
        q = F.linear(xq, wq, bq).view(B, Tq, H, dk)
        k = F.linear(xkv, wk, bk).view(B, Tk, H, dk)
        v = F.linear(xkv, wv, bv).view(B, Tk, H, dk)
        scores = torch.matmul(q.transpose(1, 2), k.transpose(1, 2).transpose(-2, -1)) / math.sqrt(dk)
        allowed = self.masks.get((self.stack, kind))
        if allowed is not None:
            scores = scores.masked_fill(~allowed.unsqueeze(1), MASKED_FILL)
        pattern = torch.softmax(scores, dim=-1)
        z = torch.matmul(pattern, v.transpose(1, 2)).transpose(1, 2).contiguous()  # [B, Tq, H, dk]
        out = F.linear(z.view(B, Tq, D), wo, bo)
        err = (out - actual_out).abs().max().item()
        assert err < 1e-5 * max(1.0, actual_out.abs().max().item()), f'{self.block()}.{kind}: recomputed attention is off by {err}'
        p = f'{self.block()}.{kind}'
        for n, t in (('hook_q', q), ('hook_k', k), ('hook_v', v), ('hook_attn_scores', scores), ('hook_pattern', pattern), ('hook_z', z)):
            self.put(f'{p}.{n}', t)


def residual_names(n_sublayers):
    return ['hook_resid_mid', 'hook_resid_post'] if n_sublayers == 2 else ['hook_resid_mid', 'hook_resid_mid_cross', 'hook_resid_post']


def record_tutorial(rec, model, post):
    """Hooks on the tutorial model. A shared layer object is hooked once and fires once per slot."""
    rec.stack = ''

    def pos_hook(mod, inp, _out):
        x = inp[0]
        B, T, D = x.shape
        rec.put('hook_embed', x)
        rec.put('hook_pos_embed', mod.pe[:, :T].expand(B, T, D))

    rec.hook(model.pos_encoding, pos_hook)

    def layer_pre(_mod, inp):
        rec.layer += 1
        rec.put(f'{rec.block()}.hook_resid_pre', inp[0])

    names = residual_names(2)
    seen = set()
    for layer in model.encoder.layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        rec.hook(layer, layer_pre, pre=True)
        for n, addnorm in ((1, layer.addnorm1), (2, layer.addnorm2)):
            out_name = 'hook_attn_out' if n == 1 else 'hook_mlp_out'

            def norm_hook(_mod, inp, out, n=n):
                rec.put(f'{rec.block()}.ln{n}.hook_normalized', out)
                if post:
                    rec.put(f'{rec.block()}.{names[n - 1]}', inp[0])

            def drop_hook(_mod, _inp, out, out_name=out_name):
                rec.put(f'{rec.block()}.{out_name}', out)

            def addnorm_hook(_mod, _inp, out, n=n):
                if not post:
                    rec.put(f'{rec.block()}.{names[n - 1]}', out)

            rec.hook(addnorm.norm, norm_hook)
            rec.hook(addnorm.dropout, drop_hook)
            rec.hook(addnorm, addnorm_hook)

        mha = layer.attn

        def attn_hook(mod, inp, out):
            xq, xkv = inp[0], inp[1]
            rec.attention('attn', xq, xkv, mod.linear_q.weight, mod.linear_q.bias, mod.linear_k.weight, mod.linear_k.bias,
                          mod.linear_v.weight, mod.linear_v.bias, mod.linear_out.weight, mod.linear_out.bias, out)

        rec.hook(mha, attn_hook)
        record_ffn(rec, layer.ffn.linear1, layer.ffn.linear2)

    rec.hook(model.encoder.norm, lambda _m, _i, out: rec.put('ln_final.hook_normalized', out))
    rec.hook(model.fc_out, lambda _m, _i, out: rec.put('logits', out))


def record_ffn(rec, linear1, linear2):
    rec.hook(linear1, lambda _m, _i, out: rec.put(f'{rec.block()}.mlp.hook_pre', out))
    rec.hook(linear2, lambda _m, inp: rec.put(f'{rec.block()}.mlp.hook_post', inp[0]), pre=True)


def record_seq2seq(rec, model, post):
    tr = model.transformer

    def pos_hook(mod, inp, _out):
        x = inp[0]
        B, T, D = x.shape
        rec.put(f'{rec.stack}hook_embed', x)
        rec.put(f'{rec.stack}hook_pos_embed', mod.pe[:, :T].expand(B, T, D))

    def set_stack(s):
        def f(_mod, _inp):
            rec.stack = s
            rec.layer = -1
        return f

    # Embeddings run before the stacks: the embedding's pre-hook names the side for the positional hook.
    rec.hook(model.src_embedding, set_stack('encoder.'), pre=True)
    rec.hook(model.tgt_embedding, set_stack('decoder.'), pre=True)
    rec.hook(model.pos_encoding, pos_hook)
    rec.hook(tr.encoder, set_stack('encoder.'), pre=True)
    rec.hook(tr.decoder, set_stack('decoder.'), pre=True)

    def layer_pre(_mod, inp):
        rec.layer += 1
        rec.put(f'{rec.block()}.hook_resid_pre', inp[0])

    for side, stack in (('encoder', tr.encoder), ('decoder', tr.decoder)):
        n_sub = 2 if side == 'encoder' else 3
        names = residual_names(n_sub)
        for layer in stack.layers:
            rec.hook(layer, layer_pre, pre=True)
            for n in range(1, n_sub + 1):
                def norm_hook(_mod, inp, out, n=n, names=names):
                    rec.put(f'{rec.block()}.ln{n}.hook_normalized', out)
                    if post:
                        rec.put(f'{rec.block()}.{names[n - 1]}', inp[0])
                    elif n >= 2:
                        rec.put(f'{rec.block()}.{names[n - 2]}', inp[0])
                rec.hook(getattr(layer, f'norm{n}'), norm_hook)
            if not post:
                rec.hook(layer, lambda _m, _i, out: rec.put(f'{rec.block()}.hook_resid_post', out))
            attns = [('attn', layer.self_attn, 'hook_attn_out')]
            if side == 'decoder':
                attns.append(('cross_attn', layer.multihead_attn, 'hook_cross_attn_out'))
            for kind, mha, out_name in attns:
                def attn_hook(mod, inp, out, kind=kind, out_name=out_name):
                    xq, xkv = inp[0], inp[1]
                    D = xq.shape[-1]
                    w, b = mod.in_proj_weight, mod.in_proj_bias
                    rec.attention(kind, xq, xkv, w[:D], b[:D], w[D:2 * D], b[D:2 * D], w[2 * D:], b[2 * D:],
                                  mod.out_proj.weight, mod.out_proj.bias, out[0])
                    rec.put(f'{rec.block()}.{out_name}', out[0])
                rec.hook(mha, attn_hook)
            record_ffn(rec, layer.linear1, layer.linear2)
            rec.hook(layer.linear2, lambda _m, _i, out: rec.put(f'{rec.block()}.hook_mlp_out', out))
        rec.hook(stack.norm, lambda _m, _i, out: rec.put(f'{rec.stack}ln_final.hook_normalized', out))
    rec.hook(model.fc_out, lambda _m, _i, out: rec.put('logits', out))


# ════════════════════════════════════════════════════════════════════════════════════════════════
# Files.
# ════════════════════════════════════════════════════════════════════════════════════════════════

def write_safetensors(path, tensors):
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_case(name, config, weights, inputs, expected, meta):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f'{name}.transformer.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    write_safetensors(os.path.join(d, f'{name}.safetensors'), weights)
    write_safetensors(os.path.join(d, 'expected.safetensors'), expected)
    with open(os.path.join(d, 'input.json'), 'w') as f:
        items = {**inputs, **meta}
        f.write('{\n' + ',\n'.join(f'  {json.dumps(k)}: {json.dumps(v)}' for k, v in items.items()) + '\n}\n')


def n_params(model):
    return sum(p.numel() for p in model.parameters())


# ════════════════════════════════════════════════════════════════════════════════════════════════
# Cases.
# ════════════════════════════════════════════════════════════════════════════════════════════════

def tutorial_case(name, cfg, ids, seed, distinct=False, post=False, pad=None, extra_config=None, description=''):
    torch.manual_seed(seed)
    model = tutorial_model(cfg, distinct, post)
    randomise(model)
    model.eval()  # dropout off; grad stays enabled (no fast paths)
    src = torch.tensor(ids, dtype=torch.long)
    mask = None
    rec = Recorder(cfg['num_heads'])
    if pad is not None:
        mask = (src != pad).unsqueeze(1).unsqueeze(2)  # [B, 1, 1, T]: the tutorial's padding mask
        B, T = src.shape
        rec.masks[('', 'attn')] = (src != pad).unsqueeze(1).expand(B, T, T)
    record_tutorial(rec, model, post)
    logits = model(src, mask)
    rec.close()
    assert torch.equal(rec.tensors['logits'], logits.detach())
    sd = model.state_dict()  # exactly the tutorial's state_dict, repeated layer tensors and the `pe` buffer included
    config = {**cfg, **(extra_config or {})}
    buffers = {n for n, _ in model.named_buffers()}
    meta = {
        'description': description,
        'param_count': n_params(model),
        'state_dict_param_numel': sum(t.numel() for k, t in sd.items() if k not in buffers),
    }
    inputs = {'ids': ids}
    if pad is not None:
        inputs['attention_mask'] = (src != pad).long().tolist()
    write_case(name, config, dict(sd), inputs, rec.tensors, meta)
    return rec.tensors


def seq2seq_case(name, cfg, ids, dec_ids, seed, norm_first, pad=None, description=''):
    torch.manual_seed(seed)
    model = Seq2Seq(cfg['vocab_size'], cfg.get('tgt_vocab_size', cfg['vocab_size']), cfg['d_model'], cfg['num_heads'],
                    cfg['num_layers'], cfg['num_decoder_layers'], cfg['d_ff'], cfg['max_len'], cfg['dropout'],
                    norm_first, cfg.get('scale_embedding', False))
    randomise(model)
    model.eval()
    src = torch.tensor(ids, dtype=torch.long)
    tgt = torch.tensor(dec_ids, dtype=torch.long)
    B, Ts = src.shape
    Tt = tgt.shape[1]
    rec = Recorder(cfg['num_heads'])
    causal = torch.tril(torch.ones(Tt, Tt, dtype=torch.bool)).unsqueeze(0).expand(B, Tt, Tt)
    src_ok = (src != pad) if pad is not None else torch.ones(B, Ts, dtype=torch.bool)
    tgt_ok = (tgt != pad) if pad is not None else torch.ones(B, Tt, dtype=torch.bool)
    if pad is not None:
        rec.masks[('encoder.', 'attn')] = src_ok.unsqueeze(1).expand(B, Ts, Ts)
        rec.masks[('decoder.', 'cross_attn')] = src_ok.unsqueeze(1).expand(B, Tt, Ts)
    rec.masks[('decoder.', 'attn')] = causal & tgt_ok.unsqueeze(1)
    assert rec.masks[('decoder.', 'attn')].any(-1).all(), 'a fully masked row would give NaN in PyTorch'
    record_seq2seq(rec, model, post=not norm_first)
    with torch.enable_grad():  # grad on: TransformerEncoder's inference fast path (nested tensors) stays off
        logits = model(src, tgt, pad)
    rec.close()
    assert torch.equal(rec.tensors['logits'], logits.detach())
    meta = {'description': description, 'param_count': n_params(model), 'state_dict_param_numel': n_params(model)}
    inputs = {'ids': ids, 'decoder_ids': dec_ids}
    if pad is not None:
        inputs['attention_mask'] = src_ok.long().tolist()
        inputs['decoder_attention_mask'] = tgt_ok.long().tolist()
    write_case(name, cfg, native_state_dict_seq2seq(model), inputs, rec.tensors, meta)
    return rec.tensors


def tutorial_cfg(**kw):
    cfg = {'vocab_size': 40, 'd_model': 16, 'num_heads': 4, 'd_ff': 32, 'num_layers': 2, 'max_len': 10, 'dropout': 0.1}
    cfg.update(kw)
    return cfg


def main():
    torch.set_grad_enabled(True)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)

    ids2 = [[5, 17, 3, 29, 11, 38], [1, 8, 8, 23, 0, 36]]
    tutorial_case('tutorial_shared', tutorial_cfg(), ids2, seed=1,
                  description='The tutorial code as written: one EncoderLayer object in every ModuleList slot; '
                              'the config holds only the seven constructor keys, so the engine loads each index.')
    tutorial_case('tutorial_shared_flag', tutorial_cfg(), ids2, seed=1, extra_config={'shared_layers': True},
                  description='Same model and weights; "shared_layers": true makes the engine use one set of weights.')
    tutorial_case('tutorial_distinct', tutorial_cfg(num_layers=3), ids2, seed=2, distinct=True,
                  description='Tutorial code with one EncoderLayer per slot (distinct weights), pre-norm.')
    tutorial_case('tutorial_postnorm', tutorial_cfg(), ids2, seed=3, distinct=True, post=True,
                  extra_config={'norm_placement': 'post'},
                  description='Tutorial code, distinct layers, post-norm: norm(x + sublayer(x)).')
    tutorial_case('tutorial_one_head', tutorial_cfg(d_model=12, num_heads=1, d_ff=20, vocab_size=30), [[4, 9, 2, 27, 13]],
                  seed=4, distinct=True, description='A single attention head (d_k = d_model).')
    tutorial_case('tutorial_t1', tutorial_cfg(), [[7], [31]], seed=5, distinct=True,
                  description='Sequences of one token: attention over a single key.')
    tutorial_case('tutorial_padding', tutorial_cfg(d_model=8, num_heads=2, d_ff=24, max_len=7),
                  [[12, 5, 33, 9, 21, 4, 17], [3, 26, 14, 0, 0, 0, 0]], seed=6, distinct=True, pad=0,
                  extra_config={'pad_token_id': 0},
                  description='Batch of two with different lengths; pad id 0 at the end; '
                              'mask = (src != pad) broadcast over queries.')

    s2s = {'vocab_size': 30, 'tgt_vocab_size': 24, 'd_model': 16, 'num_heads': 4, 'd_ff': 24, 'num_layers': 2,
           'num_decoder_layers': 2, 'max_len': 8, 'dropout': 0.1, 'architecture': 'encoder-decoder'}
    src2 = [[3, 14, 15, 9, 26, 5], [8, 27, 18, 2, 8, 1]]
    tgt2 = [[1, 20, 7, 3, 11], [1, 6, 23, 19, 4]]
    seq2seq_case('torch_postnorm', {**s2s, 'norm_placement': 'post'}, src2, tgt2, seed=11, norm_first=False,
                 description='torch.nn.Transformer, norm_first=False (post-norm), causal target mask.')
    seq2seq_case('torch_prenorm', {**s2s, 'scale_embedding': True}, src2, tgt2, seed=12, norm_first=True,
                 description='torch.nn.Transformer, norm_first=True (pre-norm), embeddings scaled by sqrt(d_model).')
    pad_src = [[5, 12, 7, 19, 3, 22, 9], [4, 17, 11, 0, 0, 0, 0]]
    pad_tgt = [[2, 9, 14, 21, 6], [2, 13, 0, 0, 0]]
    s2s_small = {**s2s, 'd_model': 8, 'num_heads': 2, 'd_ff': 16, 'num_layers': 1, 'num_decoder_layers': 2, 'pad_token_id': 0}
    seq2seq_case('torch_padding_post', {**s2s_small, 'norm_placement': 'post'}, pad_src, pad_tgt, seed=13, norm_first=False, pad=0,
                 description='Padded source and target (pad id 0), post-norm: src/tgt/memory key padding masks.')
    seq2seq_case('torch_padding_pre', s2s_small, pad_src, pad_tgt, seed=14, norm_first=True, pad=0,
                 description='Padded source and target (pad id 0), pre-norm.')

    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f'wrote {len(os.listdir(OUT))} cases to {os.path.relpath(OUT, ROOT)} ({total / 1024:.0f} KiB)')
    assert total < 2 * 1024 * 1024


if __name__ == '__main__':
    sys.exit(main())
