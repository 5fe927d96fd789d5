import { big, embedding, indexRange, linear, mod, norm, partitionLayers, unembedding } from '../tree';
import type { ArchDesc, ModuleDef, TensorDef } from '../types';
import { decoderHead, type HfConfig } from '../../config/hf/reader';
import { decoderLM, gatedMlp, layerGroups, moeBlock, router, type LayerGroup } from './decoder';
import { topK } from './llama';

/**
 * DeepSeek-V2 and V3: multi-head latent attention (MLA) and DeepSeekMoE (fine-grained routed experts plus
 * shared experts, the first `first_k_dense_replace` layers dense). Defaults are transformers'
 * DeepseekV2Config / DeepseekV3Config; `moe_layer_freq` and `num_nextn_predict_layers` come from
 * DeepSeek's own configuration files (defaults 1 and 0).
 */

const D = {
  deepseek_v2: {
    prefix: 'DeepseekV2',
    vocab: 32000,
    hidden: 4096,
    ff: 11008,
    moeFF: 1407,
    layers: 32,
    heads: 32,
    routed: 64,
    shared: 2,
    topK: null,
    firstDense: 0,
    qLora: 1536,
    maxPos: 2048,
  },
  deepseek_v3: {
    prefix: 'DeepseekV3',
    vocab: 129280,
    hidden: 7168,
    ff: 18432,
    moeFF: 2048,
    layers: 61,
    heads: 128,
    routed: 256,
    shared: 1,
    topK: 8,
    firstDense: 3,
    qLora: 1536,
    maxPos: 4096,
  },
} as const;

export const DEEPSEEK_FAMILIES = Object.keys(D);

export function deepseekFamily(c: HfConfig, family: 'deepseek_v2' | 'deepseek_v3'): ArchDesc {
  const d = D[family];
  const notes: string[] = [];
  const vocab = c.int('vocab_size', d.vocab);
  const hidden = c.int('hidden_size', d.hidden);
  const ff = c.int('intermediate_size', d.ff);
  const L = c.int('num_hidden_layers', d.layers);
  const heads = c.int('num_attention_heads', d.heads);
  const kvLora = c.int('kv_lora_rank', 512);
  const qLora = c.has('q_lora_rank') ? c.int('q_lora_rank', 1) : c.obj.q_lora_rank === null ? null : d.qLora;
  const rope = c.int('qk_rope_head_dim', 64);
  const nope = c.int('qk_nope_head_dim', 128, 0);
  const vDim = c.int('v_head_dim', 128);
  const bias = c.bool('attention_bias', false);
  const tie = c.bool('tie_word_embeddings', false);

  const routed = c.has('n_routed_experts')
    ? c.int('n_routed_experts', 1, 0)
    : c.obj.n_routed_experts === null
      ? 0
      : d.routed;
  const shared = c.has('n_shared_experts')
    ? c.int('n_shared_experts', 1, 0)
    : c.obj.n_shared_experts === null
      ? 0
      : d.shared;
  const moeFF = c.int('moe_intermediate_size', d.moeFF);
  const firstDense = c.int('first_k_dense_replace', d.firstDense, 0);
  const freq = c.int('moe_layer_freq', 1);
  if (freq > 4096) c.fail('moe_layer_freq', `'moe_layer_freq' must be ≤ 4096, got ${freq}`);
  let k = 0;
  if (routed > 0) {
    if (!c.has('num_experts_per_tok') && d.topK === null)
      c.fail('num_experts_per_tok', `'num_experts_per_tok' is required when there are routed experts`);
    k = topK(c, 'num_experts_per_tok', d.topK ?? 1, routed, 'n_routed_experts');
  }
  const topkMethod = c.str('topk_method', family === 'deepseek_v3' ? 'noaux_tc' : 'greedy');
  const scoreBias = family === 'deepseek_v3' || topkMethod === 'noaux_tc';

  const attention = (): ModuleDef => {
    const qkHead = big(nope) + big(rope);
    const H = big(heads);
    const q: TensorDef[] =
      qLora === null
        ? linear('q_proj', hidden, H * qkHead, false)
        : [
            ...linear('q_a_proj', hidden, qLora, bias),
            ...norm('q_a_layernorm', qLora, false),
            ...linear('q_b_proj', qLora, H * qkHead, false),
          ];
    return mod('self_attn', {
      category: 'attention',
      tensors: [
        ...q,
        ...linear('kv_a_proj_with_mqa', hidden, big(kvLora) + big(rope), bias),
        ...norm('kv_a_layernorm', kvLora, false),
        ...linear('kv_b_proj', kvLora, H * (big(nope) + big(vDim)), false),
        ...linear('o_proj', H * big(vDim), hidden, bias),
      ],
      attention: {
        heads,
        kvHeads: heads,
        qkHeadDim: nope + rope,
        vHeadDim: vDim,
        window: null,
        causal: true,
        cross: false,
        mla: { kvLoraRank: kvLora, ropeDim: rope },
      },
      note: `multi-head latent attention: ${heads} heads, KV compressed to rank ${kvLora} plus a ${rope}-dim RoPE key${qLora === null ? '' : `, queries through rank ${qLora}`}`,
    });
  };
  const moe = (): ModuleDef => {
    const r = router(hidden, routed);
    if (scoreBias) {
      r.push({
        name: 'gate.e_score_correction_bias',
        shape: [big(routed)],
        role: 'router',
        torchBuffer: true,
        note: 'routing bias, learned by the load-balancing rule; transformers registers it as a buffer',
      });
    }
    return moeBlock({
      name: 'mlp',
      hidden,
      experts: routed,
      topK: k,
      expertFF: moeFF,
      style: 'llama',
      router: r,
      ...(shared > 0 ? { shared: { name: 'shared_experts', ff: moeFF * shared, count: shared } } : {}),
    });
  };
  const layerNorms = [
    ...norm('input_layernorm', hidden, false),
    ...norm('post_attention_layernorm', hidden, false),
  ];
  const isMoe = (i: number): boolean => routed > 0 && i >= firstDense && i % freq === 0;

  const parts = partitionLayers(L, [firstDense], freq, (i) => (isMoe(i) ? 'moe' : 'dense'));
  const groups: LayerGroup[] = [];
  for (const [kind, indices] of parts) {
    const mlp =
      kind === 'moe' ? moe() : mod('mlp', { category: 'mlp', tensors: gatedMlp(hidden, ff, false) });
    groups.push({
      indices,
      what: parts.size > 1 ? (kind === 'moe' ? 'MoE' : 'dense MLP') : undefined,
      children: [attention(), mlp],
      tensors: layerNorms,
    });
  }

  // DeepSeek-V3's multi-token-prediction module: stored as extra layers after the last one.
  let extra: { module: ModuleDef; label: string } | undefined;
  const mtp = family === 'deepseek_v3' ? c.int('num_nextn_predict_layers', 0, 0) : 0;
  if (mtp > 0) {
    const indices = indexRange(L, big(L) + big(mtp));
    const layer = layerGroups([
      {
        indices,
        what: 'multi-token prediction',
        children: [
          attention(),
          isMoe(L) ? moe() : mod('mlp', { category: 'mlp', tensors: gatedMlp(hidden, ff, false) }),
          mod('shared_head', {
            category: 'head',
            tensors: [...norm('norm', hidden, false), unembedding('head.weight', vocab, hidden)],
          }),
        ],
        tensors: [
          embedding('embed_tokens.weight', vocab, hidden, 'embedding'),
          ...norm('enorm', hidden, false),
          ...norm('hnorm', hidden, false),
          ...linear('eh_proj', big(hidden) * 2n, hidden, false),
          ...layerNorms,
        ],
      },
    ]);
    extra = {
      label: 'with the multi-token-prediction module',
      module: mod('model', {
        label: 'multi-token prediction (MTP) module',
        only: 'extra',
        children: layer,
        note: 'used for training and speculative decoding, not by a forward pass; the checkpoint stores its own copies of the embedding and the output head',
      }),
    };
    notes.push(
      `the total counts the main model; the checkpoint also holds the ${mtp}-layer MTP module (see "with the multi-token-prediction module")`,
    );
  }

  const { cls, head, note } = decoderHead(c.architecture(), d.prefix);
  if (note) notes.push(note);
  return decoderLM({
    family,
    modelClass: cls,
    baseClass: `${d.prefix}Model`,
    head,
    hidden,
    vocab,
    maxContext: c.int('max_position_embeddings', d.maxPos),
    groups,
    tie,
    numLabels: c.numLabels(),
    notes,
    quantization: c.quantization(),
    storedDtype: c.storedDtype(),
    extra,
  });
}
