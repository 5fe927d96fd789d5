import { gateActivation, type ModelSpec } from '../model/spec';
import { walkTree, type ModelNode } from './tree';
import { hookKind, type HookKind } from '../trace/hooks';
import type { Breadcrumb } from '../../protocol/webview';

/**
 * Words for a step: where it sits in the architecture (the breadcrumb) and one sentence on what it
 * computes, naming the convention this engine follows where implementations disagree.
 */

const LEAF_LABEL: Partial<Record<HookKind, string>> = {
  hook_embed: 'Token embedding',
  hook_pos_embed: 'Positional encoding',
  hook_token_type_embed: 'Token type embedding',
  hook_resid_pre: 'Residual in',
  hook_resid_mid: 'Residual after attention',
  hook_resid_mid_cross: 'Residual after cross-attention',
  hook_resid_post: 'Residual out',
  hook_normalized: 'Normalized',
  hook_q: 'Queries',
  hook_k: 'Keys',
  hook_v: 'Values',
  hook_rot_q: 'Rotated queries',
  hook_rot_k: 'Rotated keys',
  hook_attn_scores: 'Scores',
  hook_pattern: 'Pattern',
  hook_z: 'Weighted values',
  hook_kv_latent: 'K/V latent',
  hook_router_probs: 'Router probabilities',
  hook_expert_weights: 'Expert weights',
  hook_attn_out: 'Attention output',
  hook_cross_attn_out: 'Cross-attention output',
  hook_pre: 'Pre-activation',
  hook_pre_linear: 'Linear gate input',
  hook_post: 'Activation',
  hook_mlp_out: 'MLP output',
  logits: 'Logits',
};

const MODULE_LABEL: Record<string, string> = {
  attn: 'Attention',
  cross_attn: 'Cross-attention',
  mlp: 'MLP',
  ln_final: 'Final norm',
};

/**
 * e.g. `blocks.0.attn.hook_pattern` of an encoder → ['Encoder', 'Block 0', 'Attention', 'Pattern'];
 * `decoder.blocks.1.ln2.hook_normalized` → ['Decoder', 'Block 1', 'Norm 2', 'Normalized'].
 */
export function breadcrumb(name: string, architecture: ModelSpec['architecture']): Breadcrumb {
  const parts = name.split('.');
  const leaf = parts.pop() as string;
  const crumbs: string[] = [];
  if (leaf === 'logits') return ['LM head', 'Logits'];
  if (parts[0] === 'encoder' || parts[0] === 'decoder') {
    crumbs.push(parts[0] === 'encoder' ? 'Encoder' : 'Decoder');
    parts.shift();
  } else {
    crumbs.push(architecture === 'decoder' ? 'Decoder' : 'Encoder');
  }
  if (parts.length === 0 && (leaf === 'hook_embed' || leaf === 'hook_pos_embed' || leaf === 'hook_token_type_embed')) {
    crumbs.push('Embeddings');
  }
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === 'blocks' && i + 1 < parts.length) crumbs.push(`Block ${parts[++i]}`);
    else if (/^ln\d+$/.test(p)) crumbs.push(`Norm ${p.slice(2)}`);
    else crumbs.push(MODULE_LABEL[p] ?? p);
  }
  const kind = hookKind(name);
  crumbs.push(LEAF_LABEL[kind] ?? kind);
  return crumbs;
}

/** One sentence on what the step computes, for this model's variant. */
/**
 * Which terms the loaded model really has, so formulas show only those (no "+ b_Q" without a bias),
 * and what the family calls its output head. Without it (no model), every term is shown.
 */
export interface ExplainTerms {
  qkvBias: boolean;
  outBias: boolean;
  mlpBias: boolean;
  /** The output head's name in the family's weights: `lm_head`, `fc_out`, `cls.predictions.decoder`. */
  head: string;
}

export function explain(name: string, spec: ModelSpec, terms?: ExplainTerms): string {
  const kind = hookKind(name);
  const b = (term: string, has: boolean | undefined) => (has === false ? '' : ` + ${term}`);
  const cross = name.includes('.cross_attn.');
  const pre = spec.placement === 'pre';
  const normWord = spec.norm.kind === 'layernorm' ? 'LayerNorm' : spec.norm.kind === 'rmsnorm' ? 'RMSNorm' : 'ScaleNorm';
  switch (kind) {
    case 'hook_embed':
      return `Token embedding: row t is the embedding-table row for token t's id${spec.scaleEmbedding ? ', multiplied by √d_model (the 2017 paper)' : ' (not scaled by √d_model, as in the tutorial code)'}.`;
    case 'hook_pos_embed':
      return spec.positional.kind === 'sinusoidal'
        ? spec.positional.layout === 'interleaved'
          ? 'Sinusoidal positional encoding, added to the token embedding: feature 2i is sin(pos/10000^(2i/d_model)), feature 2i+1 the matching cos (interleaved, as in the 2017 paper and the tutorial).'
          : 'Sinusoidal positional encoding, added to the token embedding: the first half of the features are sines, the second half cosines (the "half" layout).'
        : 'Learned position embedding, added to the token embedding: row t is row t of the position table.';
    case 'hook_token_type_embed':
      return 'Token type (segment) embedding, added to the token embedding: row t is the table row for token t\'s segment id.';
    case 'hook_resid_pre':
      return 'The residual stream entering this block: what every sublayer reads from and adds to.';
    case 'hook_resid_mid':
      return pre
        ? 'Residual stream after attention: x + Attention(Norm(x)) (pre-norm).'
        : 'Residual stream after attention, before its norm: x + Attention(x) (post-norm; the normalized value is the next step).';
    case 'hook_resid_mid_cross':
      return pre
        ? 'Residual stream after cross-attention: x + CrossAttention(Norm(x), encoder output).'
        : 'Residual stream after cross-attention, before its norm: x + CrossAttention(x, encoder output).';
    case 'hook_resid_post':
      return pre
        ? 'The residual stream leaving this block: x + MLP(Norm(x)), the next block\'s input.'
        : 'x + MLP(x) before the block\'s last norm (post-norm; the normalized value that follows is the block\'s output).';
    case 'hook_normalized':
      if (name.includes('ln_final')) return `Final ${normWord} over d_model, applied once after the last block.`;
      return spec.norm.kind === 'layernorm'
        ? `${normWord} over d_model: (x − mean)/√(var + ${spec.norm.eps}) · γ${spec.norm.bias ? ' + β' : ''}, with the biased variance (as torch.nn.LayerNorm)${pre ? ', applied to the sublayer\'s input (pre-norm)' : ', applied to x + sublayer(x) (post-norm)'}.`
        : `${normWord} over d_model${pre ? ', applied to the sublayer\'s input (pre-norm)' : ', applied after the residual add (post-norm)'}.`;
    case 'hook_q':
      return `Queries: x·W_Qᵀ${b('b_Q', terms?.qkvBias)}, split into ${spec.numHeads} heads of d_head = d_model / num_heads = ${spec.headDim}${cross ? ' (from the decoder stream)' : ''}.`;
    case 'hook_k':
      return `Keys: x·W_Kᵀ${b('b_K', terms?.qkvBias)}, split into heads${cross ? ', computed from the encoder output (cross-attention)' : ''}.`;
    case 'hook_v':
      return `Values: x·W_Vᵀ${b('b_V', terms?.qkvBias)}, split into heads${cross ? ', computed from the encoder output (cross-attention)' : ''}.`;
    case 'hook_rot_q':
    case 'hook_rot_k':
      return `${kind === 'hook_rot_q' ? 'Queries' : 'Keys'} after the rotary position embedding: ${ropeSentence(spec)}`;
    case 'hook_attn_scores':
      return 'QKᵀ/√d_k per head, before the softmax; masked positions are set to −1e9 (masked_fill, not −∞), so a fully masked row becomes uniform instead of NaN.';
    case 'hook_pattern':
      if (name.includes('.to_latents.')) return 'Latent bottleneck (Perceiver-style), step 1: each learned latent token (row) attends to the input tokens (columns). Not DeepSeek\'s multi-head latent attention.';
      if (name.includes('.from_latents.')) return 'Latent bottleneck (Perceiver-style), step 2: each input token (row) attends to the latents (columns): O(n·m) instead of O(n²).';
      return `softmax(QKᵀ/√d_k + mask) per head: row i is where query token i looks${cross ? ' among the encoder tokens' : ''}; each row sums to 1.`;
    case 'hook_z':
      return 'Per head, the pattern times the values: each query\'s weighted average of the value vectors it attends to.';
    case 'hook_kv_latent':
      return 'Multi-head latent attention (DeepSeek-V2): the normalised low-rank latent c_KV that keys and values are rebuilt from; with the shared RoPE key it is all an inference engine caches per token.';
    case 'hook_router_probs':
      return 'Mixture of experts: the router\'s softmax over the routed experts, per token (before the top-k choice).';
    case 'hook_expert_weights':
      return 'Mixture of experts: the weight each routed expert\'s output gets per token; zero for experts not among the top k (shared experts are always applied).';
    case 'hook_attn_out':
    case 'hook_cross_attn_out':
      return `The heads concatenated (head × d_head = d_model) and projected by W_O${terms?.outBias === false ? '' : terms ? ' + b_O' : ' (+ b_O)'}: what ${kind === 'hook_cross_attn_out' ? 'cross-attention' : 'attention'} adds to the residual stream.`;
    case 'hook_pre':
      if (spec.ffn !== 'mlp') return `The gate projection gate(x) of the ${gatedName(spec)} feed-forward, d_model = ${spec.dModel} → d_ff = ${spec.dFF}, before its activation.`;
      return `First feed-forward layer, x·W_1ᵀ${b('b_1', terms?.mlpBias)}, from d_model = ${spec.dModel} up to d_ff = ${spec.dFF}, before the activation.`;
    case 'hook_pre_linear':
      return 'The linear (ungated) half of a gated feed-forward layer, multiplied elementwise by the activated gate.';
    case 'hook_post':
      if (spec.ffn !== 'mlp') return `${gatedName(spec)}: ${activationFormula(gateActivation(spec))} of the gate, multiplied elementwise by up(x).`;
      return `The activation ${activationFormula(spec.activation)} applied elementwise to the first feed-forward layer's output.`;
    case 'hook_mlp_out':
      return `Second feed-forward layer, h·W_2ᵀ${b('b_2', terms?.mlpBias)}, back from d_ff = ${spec.dFF} to d_model: what the MLP adds to the residual stream.`;
    case 'logits':
      return `Output projection to the vocabulary (${terms?.head ?? (spec.family === 'native' ? 'fc_out' : 'lm_head')}${spec.tieEmbeddings ? ', tied to the token embedding' : ''}): unnormalised scores per position; softmax over d_vocab gives ${spec.architecture === 'encoder' ? 'a distribution over tokens at each position' : 'the next-token distribution at each position'}.`;
    default:
      return `The tensor recorded at ${kind}.`;
  }
}

/** A gated feed-forward named by the activation its gate really applies (Gemma's is GeGLU-tanh, not SwiGLU). */
function gatedName(spec: ModelSpec): string {
  const act = gateActivation(spec);
  switch (act) {
    case 'silu':
      return 'SwiGLU (SiLU gate, as Llama)';
    case 'gelu':
      return 'GeGLU (exact GELU gate)';
    case 'gelu_tanh':
      return 'GeGLU-tanh (tanh-approximate GELU gate, as Gemma)';
    case 'sigmoid':
      return 'sigmoid GLU (fc1(x)·σ(fc2(x)); sometimes mislabelled "Swish GLU")';
    default:
      return `${act}-gated GLU`;
  }
}

function ropeSentence(spec: ModelSpec): string {
  const p = spec.positional;
  if (p.kind !== 'rotary') return 'each pair of features rotated by an angle proportional to the position.';
  const layout =
    p.layout === 'half'
      ? 'feature i is paired with i + d/2 (rotate_half, as real checkpoints)'
      : p.layout === 'interleaved'
        ? 'features 2i and 2i+1 are paired (interleaved, the paper\'s complex form)'
        : 'features 2i, 2i+1 rotated by −θ — a tutorial variant: still relative, but not compatible with real weights';
  return `${layout}, rotated by position × θ^(−2i/d) with θ = ${p.theta}${p.partialFactor < 1 ? `, on ${Math.round(p.partialFactor * 100)}% of each head's dims` : ''}.`;
}

function activationFormula(act: ModelSpec['activation']): string {
  switch (act) {
    case 'relu':
      return 'ReLU, max(0, x),';
    case 'gelu':
      return 'GELU, x·Φ(x) (exact erf form),';
    case 'gelu_tanh':
      return 'GELU in its tanh approximation';
    case 'silu':
      return 'SiLU, x·σ(x),';
    case 'sigmoid':
      return 'sigmoid';
    case 'tanh':
      return 'tanh';
    case 'identity':
      return 'identity (no activation)';
  }
}

/** The terms a model has, from its tree's tensors (the one description of what was allocated). */
export function explainTerms(tree: ModelNode, family: string): ExplainTerms {
  let attention: ModelNode | undefined;
  let mlp: ModelNode | undefined;
  let head: ModelNode | undefined;
  for (const { node } of walkTree(tree)) {
    if (!attention && node.kind === 'attention') attention = node;
    if (!mlp && node.kind === 'mlp') mlp = node;
    if (!head && node.kind === 'lm_head') head = node;
  }
  // A bias is a rank-1 tensor that is not a norm's weight (MLA and QK-norm keep norms inside attention).
  const biases = (n: ModelNode | undefined) => (n?.tensors ?? []).filter((t) => t.shape.length === 1 && !/norm/i.test(t.name));
  const out = /(o_proj|out_proj|linear_out|c_proj|attention\.output\.dense|\.o|W_O)\.?(bias)?$/;
  const attnBiases = biases(attention);
  const weight = head?.tensors[0]?.name;
  const headName = family === 'native' ? 'fc_out' : weight && !/embed|wte|shared/.test(weight) ? weight.replace(/\.weight$/, '') : 'lm_head';
  return {
    qkvBias: attnBiases.some((t) => !out.test(t.name.replace(/\.bias$/, ''))),
    outBias: attnBiases.some((t) => out.test(t.name.replace(/\.bias$/, ''))),
    mlpBias: biases(mlp).length > 0,
    head: headName,
  };
}
