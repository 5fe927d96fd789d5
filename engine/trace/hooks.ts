/**
 * Every traced tensor's symbolic shape, declared once, keyed by the hook's last name segment
 * (TransformerLens names). The tracer checks each recorded tensor against this table, and the
 * UI reads it to know which axis is a position, a head or a feature. Which hooks a given model fires,
 * and their concrete sizes, come from its description: engine/model/hooks.ts (`declaredHooks`).
 */
export type Dim =
  | 'batch'
  | 'pos'
  | 'd_model'
  | 'head_index'
  | 'd_head'
  | 'query_pos'
  | 'key_pos'
  | 'd_mlp'
  | 'd_vocab'
  | 'latent'
  | 'expert';

export const HOOK_DIMS = {
  hook_embed: ['batch', 'pos', 'd_model'],
  hook_pos_embed: ['batch', 'pos', 'd_model'],
  hook_token_type_embed: ['batch', 'pos', 'd_model'],
  hook_resid_pre: ['batch', 'pos', 'd_model'],
  hook_resid_mid: ['batch', 'pos', 'd_model'],
  hook_resid_mid_cross: ['batch', 'pos', 'd_model'],
  hook_resid_post: ['batch', 'pos', 'd_model'],
  hook_normalized: ['batch', 'pos', 'd_model'],
  hook_q: ['batch', 'pos', 'head_index', 'd_head'],
  hook_k: ['batch', 'pos', 'head_index', 'd_head'],
  hook_v: ['batch', 'pos', 'head_index', 'd_head'],
  hook_rot_q: ['batch', 'pos', 'head_index', 'd_head'],
  hook_rot_k: ['batch', 'pos', 'head_index', 'd_head'],
  hook_attn_scores: ['batch', 'head_index', 'query_pos', 'key_pos'],
  hook_pattern: ['batch', 'head_index', 'query_pos', 'key_pos'],
  hook_z: ['batch', 'pos', 'head_index', 'd_head'],
  /** DeepSeek MLA: the normalised compressed K/V latent c_KV, what is cached per token. */
  hook_kv_latent: ['batch', 'pos', 'latent'],
  hook_attn_out: ['batch', 'pos', 'd_model'],
  hook_cross_attn_out: ['batch', 'pos', 'd_model'],
  hook_pre: ['batch', 'pos', 'd_mlp'],
  hook_pre_linear: ['batch', 'pos', 'd_mlp'],
  hook_post: ['batch', 'pos', 'd_mlp'],
  hook_mlp_out: ['batch', 'pos', 'd_model'],
  /** Mixture of experts: the router's softmax over experts, and the weights applied (0 = not chosen). */
  hook_router_probs: ['batch', 'pos', 'expert'],
  hook_expert_weights: ['batch', 'pos', 'expert'],
  logits: ['batch', 'pos', 'd_vocab'],
} as const satisfies Record<string, readonly Dim[]>;

export type HookKind = keyof typeof HOOK_DIMS;

export function hookKind(name: string): HookKind {
  const last = name.slice(name.lastIndexOf('.') + 1);
  if (!(last in HOOK_DIMS)) throw new Error(`'${name}' is not a declared hook (no entry for '${last}' in HOOK_DIMS)`);
  return last as HookKind;
}

export function hookDims(name: string): readonly Dim[] {
  return HOOK_DIMS[hookKind(name)];
}

/** Attention patterns and scores are drawn as query × key heatmaps. */
export function isAttentionHook(name: string): boolean {
  const k = hookKind(name);
  return k === 'hook_pattern' || k === 'hook_attn_scores';
}
