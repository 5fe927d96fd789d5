#!/usr/bin/env python3
"""PyTorch references for the engine's analyses (issue 13): logit lens, direct logit attribution, activation
patching, computed with Hugging Face `transformers` on golden models from test/fixtures/hf.

    /work/venv/bin/python tools/golden/gen_analyses.py           # rewrite test/fixtures/analyses/*.json
    /work/venv/bin/python tools/golden/gen_analyses.py --check   # recompute, compare with the files (1e-6)

Everything is read off the real modules with forward hooks, independently of the engine:
- lens: the input of block 0 and the output of every block, each put through the final norm module
  (so its statistics are those of that residual) and lm_head;
- attribution (as TransformerLens does it): the last residual's final-norm scale s is frozen, each part
  (token and position embeddings, every head's z_h · W_O[h], every MLP output, the output-projection biases)
  is pushed through x -> (x - mean x) * s * w (LayerNorm) or x * s * w (RMSNorm) and dotted with
  W_U[target] - W_U[versus]; the script asserts that the parts and the biases add up to the model's logit;
- patching: the corrupted input rerun with a forward pre-hook that puts the clean run's residual at one
  position into a block's input (resid), or the clean run's z slice of one head into the output
  projection's input (heads), or the clean MLP output at one position (mlp); metric (LD - LD_corrupted) / (LD_clean - LD_corrupted) at the last position.
"""
import argparse
import json
import os
import sys

import torch
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HF = os.path.join(ROOT, 'test', 'fixtures', 'hf')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'analyses')
CASES = ['gpt2', 'llama']


class Parts:
    """The modules of one family, by role."""

    def __init__(self, model):
        if hasattr(model, 'transformer'):  # GPT-2
            t = model.transformer
            self.blocks, self.final_norm = list(t.h), t.ln_f
            self.out_proj = [b.attn.c_proj for b in self.blocks]
            self.mlps = [b.mlp for b in self.blocks]
            self.heads = model.config.n_head
            # Conv1D stores [in, out]: head h's rows are W[h·dh:(h+1)·dh, :]
            self.head_out = lambda i, h, z: z @ self.out_proj[i].weight[h * self.dh:(h + 1) * self.dh, :]
            self.embeds = lambda ids: {'hook_embed': t.wte(ids), 'hook_pos_embed': t.wpe(torch.arange(ids.shape[1]))[None]}
            self.norm = ('layernorm', t.ln_f.eps)
        else:  # Llama
            m = model.model
            self.blocks, self.final_norm = list(m.layers), m.norm
            self.out_proj = [b.self_attn.o_proj for b in self.blocks]
            self.mlps = [b.mlp for b in self.blocks]
            self.heads = model.config.num_attention_heads
            self.head_out = lambda i, h, z: z @ self.out_proj[i].weight[:, h * self.dh:(h + 1) * self.dh].T
            self.embeds = lambda ids: {'hook_embed': m.embed_tokens(ids)}
            self.norm = ('rmsnorm', m.norm.variance_epsilon)
        self.dh = self.out_proj[0].weight.numel() // model.config.hidden_size // self.heads
        self.model = model


def first_arg(args, kwargs):
    return args[0] if args else kwargs['hidden_states']


def output_of(out):
    return out[0] if isinstance(out, tuple) else out


def run(parts, ids, patch=None):
    """A forward pass recording resid_pre/resid_post/z/mlp_out per block; `patch` = (kind, layer, index, clean record)."""
    rec = {'resid_pre': [], 'resid_post': [], 'z': [], 'mlp_out': []}
    handles = []
    for i, b in enumerate(parts.blocks):
        def pre(mod, args, kwargs, i=i):
            x = first_arg(args, kwargs)
            if patch and patch[0] == 'resid' and patch[1] == i:
                x = x.clone()
                x[:, patch[2]] = patch[3]['resid_pre'][i][:, patch[2]]
                if args:
                    args = (x,) + tuple(args[1:])
                else:
                    kwargs = dict(kwargs, hidden_states=x)
            rec['resid_pre'].append(x.detach().clone())
            return args, kwargs
        handles.append(b.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(b.register_forward_hook(lambda mod, a, out: rec['resid_post'].append(output_of(out).detach().clone())))

        def zpre(mod, args, i=i):
            z = args[0]
            if patch and patch[0] == 'heads' and patch[1] == i:
                z = z.clone()
                h, dh = patch[2], parts.dh
                z[..., h * dh:(h + 1) * dh] = patch[3]['z'][i][..., h * dh:(h + 1) * dh]
            rec['z'].append(z.detach().clone())
            return (z,) + tuple(args[1:])
        handles.append(parts.out_proj[i].register_forward_pre_hook(zpre))
        def mlp_hook(mod, a, out, i=i):
            if patch and patch[0] == 'mlp' and patch[1] == i:
                out = out.clone()
                out[:, patch[2]] = patch[3]['mlp_out'][i][:, patch[2]]
            rec['mlp_out'].append(out.detach().clone())
            return out
        handles.append(parts.mlps[i].register_forward_hook(mlp_hook))
    try:
        with torch.no_grad():
            rec['logits'] = parts.model(input_ids=ids).logits.detach()
    finally:
        for h in handles:
            h.remove()
    return rec


def lens(parts, rec):
    resids = [rec['resid_pre'][0]] + rec['resid_post']
    with torch.no_grad():
        return [parts.model.lm_head(parts.final_norm(r)) for r in resids]


def attribution(parts, rec, ids, t, target, versus):
    m = parts.model
    with torch.no_grad():
        r = rec['resid_post'][-1][0, t].double()
        kind, eps = parts.norm
        w = parts.final_norm.weight.double()
        if kind == 'layernorm':
            s = 1 / torch.sqrt(((r - r.mean()) ** 2).mean() + eps)
            frozen = lambda c: (c - c.mean()) * s * w
        else:
            s = 1 / torch.sqrt((r * r).mean() + eps)
            frozen = lambda c: c * s * w
        W = m.lm_head.weight.double()
        u = W[target] - W[versus]
        direct = lambda c: float(frozen(c.double()) @ u)
        comps = {name: direct(e[0, t]) for name, e in parts.embeds(ids).items()}
        biases = {}
        for i in range(len(parts.blocks)):
            z = rec['z'][i][0, t]
            for h in range(parts.heads):
                comps[f'blocks.{i}.attn.head.{h}'] = direct(parts.head_out(i, h, z[h * parts.dh:(h + 1) * parts.dh]))
            comps[f'blocks.{i}.hook_mlp_out'] = direct(rec['mlp_out'][i][0, t])
            if parts.out_proj[i].bias is not None:
                biases[f'blocks.{i}.attn.b_O'] = direct(parts.out_proj[i].bias)
        if getattr(parts.final_norm, 'bias', None) is not None:
            biases['ln_final.b'] = float(parts.final_norm.bias.double() @ u)
        logit = float(rec['logits'][0, t, target] - rec['logits'][0, t, versus])
        total = sum(comps.values()) + sum(biases.values())
        assert abs(total - logit) < 1e-5 * max(1, abs(logit)), (total, logit)
        return {'position': t, 'logit': logit, 'norm_scale': float(s), 'components': comps, 'biases': biases}


def patching(parts, clean, corrupted, c_ids, k_ids, t, target, versus):
    ld = lambda logits: float(logits[0, t, target] - logits[0, t, versus])
    lc, lk = ld(clean['logits']), ld(corrupted['logits'])
    T = c_ids.shape[1]
    grids = {}
    for kind, n in (('resid', T), ('heads', parts.heads), ('mlp', T)):
        grids[kind] = [[(ld(run(parts, k_ids, (kind, i, j, clean))['logits']) - lk) / (lc - lk) for j in range(n)] for i in range(len(parts.blocks))]
    return {'clean_logit_diff': lc, 'corrupted_logit_diff': lk, **grids}


def case(name):
    d = os.path.join(HF, name)
    # float64: the fp32 weights, upcast exactly, computed without fp32 rounding — the reference is the exact
    # math of the checkpoint, so the engine's own fp32 rounding is all a test measures.
    model = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float64, attn_implementation='eager')
    model.eval()
    parts = Parts(model)
    ids = json.load(open(os.path.join(d, 'input.json')))['input_ids'][0]
    V = model.config.vocab_size
    corrupted_ids = list(ids)
    corrupted_ids[2] = (ids[2] + 5) % V
    c_ids, k_ids = torch.tensor([ids]), torch.tensor([corrupted_ids])
    clean, corrupted = run(parts, c_ids), run(parts, k_ids)
    t = len(ids) - 1
    target = int(clean['logits'][0, t].argmax())
    versus = int(corrupted['logits'][0, t].argmax())
    if versus == target:
        versus = int(clean['logits'][0, t].argsort(descending=True)[1])
    return {
        'description': f'{name}: analyses computed with transformers {transformers.__version__}, torch {torch.__version__} by tools/golden/gen_analyses.py',
        'clean_ids': ids,
        'corrupted_ids': corrupted_ids,
        'target': target,
        'versus': versus,
        'lens_logits': [x[0].tolist() for x in lens(parts, clean)],
        'attribution': attribution(parts, clean, c_ids, t, target, versus),
        'patching': patching(parts, clean, corrupted, c_ids, k_ids, t, target, versus),
    }


def flat(x):
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in flat(x[k])]
    if isinstance(x, list):
        return [v for e in x for v in flat(e)]
    return [x] if isinstance(x, (int, float)) else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    bad = 0
    for name in CASES:
        got = case(name)
        path = os.path.join(OUT, f'{name}.json')
        if args.check:
            want = json.load(open(path))
            a, b = flat({k: v for k, v in got.items() if k != 'description'}), flat({k: v for k, v in want.items() if k != 'description'})
            ok = len(a) == len(b) and all(abs(x - y) <= 1e-6 * max(1, abs(y)) for x, y in zip(a, b))
            print(f'{name}: {"ok" if ok else "DIFFERS"}')
            bad += not ok
        else:
            with open(path, 'w') as f:
                json.dump(got, f)
                f.write('\n')
            print(f'wrote {path}')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
