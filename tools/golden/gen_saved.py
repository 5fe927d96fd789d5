"""Folders written exactly as transformers' `save_pretrained` writes them, with PyTorch's logits.

Checkpoints saved by transformers leave out what the model computes at init: Marian's sinusoid
position tables (`_keys_to_ignore_on_save`), GPT-2's causal-mask buffers `attn.bias`/`masked_bias`
and rotary `inv_freq` (non-persistent buffers). The engine must compute them when absent. Each case
builds a tiny model with the real transformers class (random weights), saves it with
`save_pretrained`, asserts the saved file really lacks those tensors, and records the logits of
the saved-and-reloaded model on fixed ids (test/unit/hf-saved.test.ts compares at 1e-5).

    /work/venv/bin/python tools/golden/gen_saved.py
"""

import json
import os
import shutil
import sys

import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, MarianConfig,
                          MarianMTModel)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'hf-saved')
torch.set_grad_enabled(False)


def marian():
    cfg = MarianConfig(vocab_size=40, decoder_vocab_size=40, d_model=16, encoder_layers=2, decoder_layers=2,
                       encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=24,
                       decoder_ffn_dim=24, max_position_embeddings=32, pad_token_id=39,
                       decoder_start_token_id=39, eos_token_id=0, scale_embedding=True,
                       forced_eos_token_id=0)
    model = MarianMTModel(cfg)
    with torch.no_grad():
        model.final_logits_bias.normal_(0, 0.5)  # nonzero, so a dropped bias is seen
    ids = [[5, 17, 3, 22, 9, 0]]
    dec = [[39, 12, 7, 30]]
    run = lambda m: m(input_ids=torch.tensor(ids), decoder_input_ids=torch.tensor(dec)).logits
    absent = ['model.encoder.embed_positions.weight', 'model.decoder.embed_positions.weight']
    return model, run, {'ids': ids, 'decoder_ids': dec}, absent


def gpt2():
    cfg = GPT2Config(vocab_size=50, n_positions=16, n_embd=16, n_layer=2, n_head=4, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(cfg)
    ids = [[3, 14, 15, 9, 26, 5, 35]]
    run = lambda m: m(input_ids=torch.tensor(ids)).logits
    absent = ['transformer.h.0.attn.bias', 'transformer.h.0.attn.masked_bias', 'h.0.attn.bias']
    return model, run, {'ids': ids}, absent


def llama():
    cfg = LlamaConfig(vocab_size=40, hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32,
                      rope_theta=500.0, bos_token_id=1, eos_token_id=2, pad_token_id=None)
    model = LlamaForCausalLM(cfg)
    ids = [[1, 7, 22, 13, 31, 4, 8, 19]]
    run = lambda m: m(input_ids=torch.tensor(ids)).logits
    absent = ['model.rotary_emb.inv_freq', 'model.layers.0.self_attn.rotary_emb.inv_freq']
    return model, run, {'ids': ids}, absent


CASES = {'marian': marian, 'gpt2': gpt2, 'llama': llama}


def main():
    for name, make in CASES.items():
        torch.manual_seed(0)
        model, run, inputs, absent = make()
        model.eval()
        # transformers' init (std 0.02) leaves attention nearly uniform: larger weights make RoPE,
        # positions and masks move the logits well past the 1e-5 tolerance.
        with torch.no_grad():
            for n, p in model.named_parameters():
                if p.requires_grad and not n.endswith('embed_positions.weight'):
                    p.normal_(0, 0.5) if p.dim() > 1 else p.uniform_(0.5, 1.5)
        folder = os.path.join(OUT, name)
        shutil.rmtree(folder, ignore_errors=True)
        model.save_pretrained(folder, safe_serialization=True)
        for extra in ('generation_config.json',):
            p = os.path.join(folder, extra)
            if os.path.exists(p):
                os.remove(p)
        with safe_open(os.path.join(folder, 'model.safetensors'), 'pt') as f:
            saved = set(f.keys())
        for a in absent:
            assert a not in saved, f'{name}: save_pretrained kept {a}; the fixture would not show it missing'
        reloaded = type(model).from_pretrained(folder).eval()
        logits = run(reloaded)
        assert torch.allclose(logits, run(model), atol=0, rtol=0), f'{name}: reload changed the logits'
        save_file({'logits': logits.contiguous().float()}, os.path.join(folder, 'expected.safetensors'))
        with open(os.path.join(folder, 'input.json'), 'w') as f:
            json.dump({**inputs, 'absent': absent, 'saved': sorted(saved),
                       'versions': {'transformers': transformers.__version__, 'torch': torch.__version__}}, f, indent=1)
            f.write('\n')
        size = sum(os.path.getsize(os.path.join(folder, x)) for x in os.listdir(folder))
        print(f'{name}: {len(saved)} tensors saved, {size} bytes')


if __name__ == '__main__':
    sys.exit(main())
