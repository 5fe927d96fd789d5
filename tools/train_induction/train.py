#!/usr/bin/env python3
"""Train examples/induction: a two-layer, attention-only Transformer in which an induction head forms.

    /work/venv/bin/python tools/train_induction/train.py   # about a minute on one CPU core

Olsson et al. (2022), "In-context Learning and Induction Heads": two-layer attention-only models trained on
text form induction heads — a previous-token head in layer 0 and, in layer 1, a head whose query finds
the earlier copy of the current token (through the previous-token head's output) and copies the token
after it. The cleanest task that needs one is a span of random tokens followed by a copy of it: the second
half is predictable only by looking the current token up in the first half.

Architecture: Llama (Hugging Face LlamaForCausalLM, so the engine loads it as the llama family): 2 layers,
d_model 64, 4 heads of 16, RMSNorm, RoPE (relative positions make the previous-token head easy to learn),
vocabulary 64, context 64. A Llama block always has an MLP; here its width is 1 and its three matrices are
zero and frozen, so every block's MLP output is exactly 0 and the model is attention-only (the residual
stream is the token embeddings plus the attention outputs).

Data: each sequence is <bos> (id 0) and 63 random ids (1 … 63) in which a span of n of them (n uniform in
6 … 31, at a random offset) is followed by a copy of itself; the loss is taken only on the copy's predictable
tokens (its second token onwards), the ones an induction head can predict. Seeded; the loss curve, the detector scores and
the ablation numbers the engine's test checks are written to examples/induction/training.json.
"""
import json
import math
import os
import time

import torch
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'examples', 'induction')
CONFIG = dict(vocab_size=64, max_position_embeddings=64, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=4, head_dim=16, intermediate_size=1, hidden_act='silu', rms_norm_eps=1e-5, rope_theta=10000.0,
              attention_bias=False, mlp_bias=False, tie_word_embeddings=False, bos_token_id=0, eos_token_id=0, pad_token_id=None)
STEPS, BATCH, LR = 1500, 32, 2e-3
T = CONFIG['max_position_embeddings']


def batch(gen, size):
    """Sequences and labels: the loss is taken only where the next token is predictable (the copy)."""
    x = torch.randint(1, CONFIG['vocab_size'], (size, T), generator=gen)
    x[:, 0] = 0
    labels = torch.full_like(x, -100)
    for b in range(size):
        n = int(torch.randint(6, 32, (1,), generator=gen))
        # The span starts at a random offset, so where its earlier copy sits cannot be told from positions:
        # only by looking the current token up (content), which is what an induction head does.
        a = 1 + int(torch.randint(0, T - 2 * n, (1,), generator=gen))
        x[b, a + n:a + 2 * n] = x[b, a:a + n]
        labels[b, a + n + 1:a + 2 * n] = x[b, a + n + 1:a + 2 * n]
    return x, labels


def repeated(gen, n):
    """<bos> + a random span of n ids + the same span: the probe the detector and the test use."""
    span = torch.randint(1, CONFIG['vocab_size'], (n,), generator=gen)
    return torch.cat([torch.zeros(1, dtype=torch.long), span, span])[None]


def zero_mlps(model):
    for b in model.model.layers:
        for p in b.mlp.parameters():
            p.data.zero_()
            p.requires_grad_(False)


def patterns(model, ids):
    with torch.no_grad():
        return [a[0] for a in model(input_ids=ids, output_attentions=True).attentions]  # [H, T, T] per layer


def scores(model, ids, n):
    """Previous-token and induction scores of every head on <bos> + span + span (the engine's definitions)."""
    prev, ind = [], []
    for p in patterns(model, ids):
        Tn = p.shape[-1]
        prev.append([float(sum(p[h, t, t - 1] for t in range(1, Tn)) / (Tn - 1)) for h in range(p.shape[0])])
        # Queries of the second copy; target keys: s + 1 for every earlier s holding the query's id (t − n + 1,
        # and more where the random span repeats an id) — engine/analyses/heads.ts's definition.
        ids_ = ids[0].tolist()
        targets = {t: [s + 1 for s in range(t) if ids_[s] == ids_[t]] for t in range(1 + n, Tn)}
        ind.append([float(sum(sum(p[h, t, k] for k in ks) for t, ks in targets.items() if ks) / sum(1 for ks in targets.values() if ks))
                    for h in range(p.shape[0])])
    return prev, ind


def second_half_loss(model, ids, n, ablate=()):
    """Mean next-token loss of the predictions of the second copy's tokens 2 … n (positions n+1 … 2n−1 predict
    ids[n+2 … 2n]); every (layer, head) in `ablate` has its z zeroed before the output projection."""
    handles = []
    dh = CONFIG['head_dim']
    for layer, head in ablate:
        def pre(mod, args, head=head):
            z = args[0].clone()
            z[..., head * dh:(head + 1) * dh] = 0
            return (z,)
        handles.append(model.model.layers[layer].self_attn.o_proj.register_forward_pre_hook(pre))
    try:
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0]
    finally:
        for h in handles:
            h.remove()
    logp = torch.log_softmax(logits.double(), -1)
    pos = range(1 + n, 2 * n)  # predicting ids[pos + 1]
    return float(-sum(logp[t, ids[0, t + 1]] for t in pos) / len(pos))


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1234)
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**CONFIG, attn_implementation='eager'))
    zero_mlps(model)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LR, weight_decay=0.01)
    curve = []
    t0 = time.time()
    model.train()
    for step in range(STEPS):
        lr = LR * min(1, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / STEPS))  # warm-up, cosine decay
        for g in opt.param_groups:
            g['lr'] = lr
        x, labels = batch(gen, BATCH)
        loss = model(input_ids=x, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == STEPS - 1:
            curve.append({'step': step, 'loss': round(loss.item(), 4)})
            print(f'step {step:5d}  loss {loss.item():.4f}  ({time.time() - t0:.0f} s)', flush=True)
    model.eval()
    for b in model.model.layers:
        assert all(float(p.abs().max()) == 0 for p in b.mlp.parameters()), 'the MLPs stay zero'

    probe_gen = torch.Generator().manual_seed(99)
    n = 25
    probe = repeated(probe_gen, n)
    prev, ind = scores(model, probe, n)
    flat = [(s, layer, h) for layer, row in enumerate(ind) for h, s in enumerate(row)]
    best = max(flat)
    head = (best[1], best[2])
    clean = second_half_loss(model, probe, n)
    ablated = second_half_loss(model, probe, n, [head])
    others = {f'{layer}.{h}': second_half_loss(model, probe, n, [(layer, h)]) for layer in range(2) for h in range(4) if (layer, h) != head}
    induction_heads = [(layer, h) for _, layer, h in flat if ind[layer][h] > 0.5]
    all_ablated = second_half_loss(model, probe, n, induction_heads)
    print(f'induction head {head}: score {best[0]:.3f}; second-half loss {clean:.4f} -> {ablated:.4f} when ablated, '
          f'{all_ablated:.4f} with all of {induction_heads} ablated')

    model.save_pretrained(OUT, safe_serialization=True)
    os.remove(os.path.join(OUT, 'generation_config.json'))
    # transformers 5 writes rope_parameters; also spell rope_theta the way transformers 4 config.json files do.
    cfg_path = os.path.join(OUT, 'config.json')
    cfg = json.load(open(cfg_path))
    cfg['rope_theta'] = CONFIG['rope_theta']
    with open(cfg_path, 'w') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write('\n')
    info = {
        'made_by': f'tools/train_induction/train.py with transformers {transformers.__version__}, torch {torch.__version__}',
        'steps': STEPS, 'batch': BATCH, 'lr': LR, 'seconds': round(time.time() - t0, 1), 'loss_curve': curve,
        'probe': {'ids': probe[0].tolist(), 'span': n,
                  'previous_token_scores': prev, 'induction_scores': ind,
                  'induction_head': {'layer': head[0], 'head': head[1], 'score': best[0]},
                  'second_half_loss': clean, 'second_half_loss_head_ablated': ablated,
                  'second_half_loss_other_heads_ablated': others,
                  'induction_heads': [{'layer': layer, 'head': h} for layer, h in induction_heads],
                  'second_half_loss_induction_heads_ablated': all_ablated},
    }
    with open(os.path.join(OUT, 'training.json'), 'w') as f:
        json.dump(info, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
