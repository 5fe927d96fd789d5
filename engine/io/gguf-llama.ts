import * as path from 'node:path';
import { InspectorError } from '../errors';
import { Tensor } from '../tensor';
import type { WeightSource } from '../model/weights';
import { GgufFile, type GgufValue } from './gguf';

/**
 * A llama-family GGUF as the engine's Hugging Face Llama: the `llama.*` hyperparameters become a
 * config.json object, and llama.cpp's tensor names map back to Hugging Face's (convert_hf_to_gguf.py's
 * table read backwards). The converter permutes the rows of Q and K for ggml's interleaved RoPE
 * (`LlamaModel.permute`); they are permuted back here so the rotate_half layout of the HF model applies.
 */
const LAYER_NAMES: Record<string, string> = {
  attn_norm: 'input_layernorm',
  attn_q: 'self_attn.q_proj',
  attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj',
  ffn_norm: 'post_attention_layernorm',
  ffn_gate: 'mlp.gate_proj',
  ffn_up: 'mlp.up_proj',
  ffn_down: 'mlp.down_proj',
};
const GLOBAL_NAMES: Record<string, string> = { token_embd: 'model.embed_tokens', output_norm: 'model.norm', output: 'lm_head' };

export function hfNameOf(ggufName: string): string | undefined {
  const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(ggufName);
  if (m) return LAYER_NAMES[m[2]] ? `model.layers.${m[1]}.${LAYER_NAMES[m[2]]}.${m[3]}` : undefined;
  const g = /^([a-z_]+)\.(weight|bias)$/.exec(ggufName);
  return g && GLOBAL_NAMES[g[1]] ? `${GLOBAL_NAMES[g[1]]}.${g[2]}` : undefined;
}

function num(v: GgufValue | undefined): number | undefined {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

/** The Hugging Face config.json a llama GGUF stands for. */
export function ggufLlamaConfig(g: GgufFile): Record<string, unknown> {
  const arch = g.metadata.get('general.architecture');
  if (arch !== 'llama') {
    throw new InspectorError(`GGUF architecture ${JSON.stringify(arch)} is not supported for running (have: llama)`, { file: g.path, key: 'general.architecture' });
  }
  const need = (k: string): number => {
    const v = num(g.metadata.get(`llama.${k}`));
    if (v === undefined) throw new InspectorError('missing or not a number', { file: g.path, key: `llama.${k}` });
    return v;
  };
  const hidden = need('embedding_length');
  const heads = need('attention.head_count');
  const tokens = g.metadata.get('tokenizer.ggml.tokens');
  const embd = g.tensors.get('token_embd.weight');
  const vocab = num(g.metadata.get('llama.vocab_size')) ?? (Array.isArray(tokens) ? tokens.length : embd?.shape[0]);
  if (vocab === undefined) throw new InspectorError('no llama.vocab_size, tokenizer.ggml.tokens or token_embd.weight', { file: g.path });
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: hidden,
    num_hidden_layers: need('block_count'),
    intermediate_size: need('feed_forward_length'),
    num_attention_heads: heads,
    num_key_value_heads: num(g.metadata.get('llama.attention.head_count_kv')) ?? heads,
    head_dim: num(g.metadata.get('llama.attention.key_length')) ?? hidden / heads,
    max_position_embeddings: need('context_length'),
    rms_norm_eps: need('attention.layer_norm_rms_epsilon'),
    rope_theta: num(g.metadata.get('llama.rope.freq_base')) ?? 10000,
    vocab_size: vocab,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: !g.tensors.has('output.weight'),
    bos_token_id: num(g.metadata.get('tokenizer.ggml.bos_token_id')) ?? 1,
    eos_token_id: num(g.metadata.get('tokenizer.ggml.eos_token_id')) ?? 2,
    torch_dtype: 'float32',
  };
}

/** Undo convert_hf_to_gguf's permute(w, n_head, n_head_kv) on the rows of a [heads·head_dim, K] weight. */
export function unpermuteRows(t: Tensor, heads: number): Tensor {
  const [R, K] = t.shape as [number, number];
  const hd = R / heads;
  const out = new Float32Array(t.size);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      for (let s = 0; s < 2; s++) {
        const from = h * hd + 2 * i + s;
        const to = h * hd + s * (hd / 2) + i;
        out.set(t.data.subarray(from * K, (from + 1) * K), to * K);
      }
    }
  }
  return new Tensor([R, K], out);
}

export class GgufWeights implements WeightSource {
  readonly seeded = false;
  private readonly toGguf = new Map<string, string>();
  readonly unmapped: string[] = [];

  constructor(
    readonly file: GgufFile,
    readonly config: Record<string, unknown>,
  ) {
    for (const name of file.tensors.keys()) {
      const hf = hfNameOf(name);
      if (hf) this.toGguf.set(hf, name);
      else this.unmapped.push(name);
    }
  }

  get description(): string {
    const types = [...new Set([...this.file.tensors.values()].map((t) => t.type))].join('/');
    return `${path.basename(this.file.path)} (GGUF v${this.file.version}, ${types})`;
  }

  names(): string[] {
    return [...this.toGguf.keys(), ...this.unmapped];
  }

  shapeOf(name: string): readonly number[] | undefined {
    const g = this.toGguf.get(name) ?? (this.unmapped.includes(name) ? name : undefined);
    return g === undefined ? undefined : this.file.tensors.get(g)?.shape;
  }

  fileOf(): string {
    return this.file.path;
  }

  /** The GGUF tensor behind an HF name, with its ggml type. */
  typeOf(name: string): string | undefined {
    const g = this.toGguf.get(name);
    return g ? this.file.tensors.get(g)?.type : undefined;
  }

  read(name: string): Tensor {
    const g = this.toGguf.get(name) ?? name;
    const t = this.file.read(g);
    if (name.endsWith('self_attn.q_proj.weight')) return unpermuteRows(t, this.config.num_attention_heads as number);
    if (name.endsWith('self_attn.k_proj.weight')) return unpermuteRows(t, this.config.num_key_value_heads as number);
    return t;
  }
}
