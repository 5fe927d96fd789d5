"""Parameter counts as transformers builds them, for tiny configs where families differ.

Builds each config with the real transformers classes (random init, CPU), lists
`named_parameters()` (tied tensors once) with their shapes, and writes
test/fixtures/hf-counts/counts.json. test/unit/analysis-transformers-counts.test.ts then requires the
engine's analysis and the tensors the engine allocates to equal these, name by name. Python is only
needed to regenerate the file:

    /work/venv/bin/python tools/golden/count_params.py
"""

import json
import os
import sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'hf-counts', 'counts.json')

BASE = dict(vocab_size=40, hidden_size=16, intermediate_size=24, num_hidden_layers=2, max_position_embeddings=32)

# name → (config.json as a user writes it, what the case shows)
CASES = {
    'gemma_without_head_dim': (
        dict(model_type='gemma', **BASE, num_attention_heads=2, num_key_value_heads=1),
        'GemmaConfig defaults head_dim to 256 (not hidden_size / num_attention_heads)',
    ),
    'mistral_attention_bias': (
        dict(model_type='mistral', **BASE, num_attention_heads=4, num_key_value_heads=1, sliding_window=4,
             attention_bias=True),
        "Mistral's attention does not read attention_bias: no biases",
    ),
    'qwen2_mlp_bias': (
        dict(model_type='qwen2', **BASE, num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
             mlp_bias=True),
        "Qwen2's MLP has no biases whatever mlp_bias says (q/k/v biases always)",
    ),
    'llama_attention_and_mlp_bias': (
        dict(model_type='llama', **BASE, num_attention_heads=4, num_key_value_heads=2, attention_bias=True,
             mlp_bias=True, head_dim=8),
        "Llama reads both: q/k/v/o biases and gate/up/down biases",
    ),
    'gemma_attention_bias_head_dim': (
        dict(model_type='gemma', **BASE, num_attention_heads=2, num_key_value_heads=1, head_dim=12,
             attention_bias=True, mlp_bias=True),
        "Gemma reads attention_bias (q/k/v/o) but has no MLP biases",
    ),
}


def count(cfg_json):
    kw = {k: v for k, v in cfg_json.items() if k != 'model_type'}
    config = AutoConfig.for_model(cfg_json['model_type'], **kw)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    params = {n: list(p.shape) for n, p in model.named_parameters()}
    total = sum(p.numel() for p in model.parameters())
    assert total == model.num_parameters()
    return params, total


def main():
    out = {
        'generator': 'tools/golden/count_params.py',
        'versions': {'transformers': transformers.__version__, 'torch': torch.__version__,
                     'python': sys.version.split()[0]},
        'cases': {},
    }
    for name, (cfg, why) in CASES.items():
        params, total = count(cfg)
        out['cases'][name] = {'why': why, 'config': cfg, 'total': total, 'parameters': params}
        print(f'{name}: {total:,}')
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
