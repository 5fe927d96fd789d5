"""Writes the bundled examples' weights with PyTorch, from the same tutorial / nn.Transformer code as the
golden fixtures (tools/golden/gen_native.py), so a user sees exactly what a PyTorch `state_dict()` holds.

    /usr/bin/python3 tools/examples/make_examples.py

- examples/tutorial/: the tutorial's encoder (config = only the constructor's seven arguments) and its
  state_dict as written, shared-layer quirk included (every layer index holds the same tensors).
- examples/translation/: an encoder-decoder (torch.nn.Transformer, post-norm as in the 2017 paper) wrapped
  with embeddings, sinusoidal positions and an output projection, saved under the engine's native names.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'golden'))

import gen_native as g  # noqa: E402


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def tutorial():
    cfg = {'vocab_size': 32, 'd_model': 16, 'num_heads': 2, 'd_ff': 32, 'num_layers': 2, 'max_len': 16, 'dropout': 0.1}
    torch.manual_seed(2017)
    model = g.tutorial_model(cfg, distinct=False, post=False)
    g.randomise(model)
    model.eval()
    out = os.path.join(ROOT, 'examples', 'tutorial')
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, 'tutorial.transformer.json'), cfg)
    g.write_safetensors(os.path.join(out, 'tutorial.safetensors'), dict(model.state_dict()))


def translation():
    cfg = {
        'architecture': 'encoder-decoder', 'vocab_size': 40, 'tgt_vocab_size': 48, 'd_model': 32, 'num_heads': 4,
        'd_ff': 64, 'num_layers': 2, 'num_decoder_layers': 2, 'max_len': 32, 'dropout': 0.1,
        'norm_placement': 'post', 'pad_token_id': 0,
    }
    torch.manual_seed(1706)
    model = g.Seq2Seq(cfg['vocab_size'], cfg['tgt_vocab_size'], cfg['d_model'], cfg['num_heads'], cfg['num_layers'],
                      cfg['num_decoder_layers'], cfg['d_ff'], cfg['max_len'], cfg['dropout'], norm_first=False,
                      scale_embedding=False)
    g.randomise(model)
    model.eval()
    out = os.path.join(ROOT, 'examples', 'translation')
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, 'translation.transformer.json'), cfg)
    g.write_safetensors(os.path.join(out, 'translation.safetensors'), g.native_state_dict_seq2seq(model))


if __name__ == '__main__':
    tutorial()
    translation()
