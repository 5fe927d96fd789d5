import { big, embedding, indexRange, linear, mod, norm, partitionLayers, unembedding } from '../tree';
import type { ArchDesc, ModuleDef, TensorDef } from '../types';
import type { HfConfig } from '../../config/hf/reader';
import { DEEPSEEK_FAMILIES as FAMILIES, resolveDeepseek, type DeepseekConfig } from '../../config/hf/deepseek';
import { decoderLM, gatedMlp, layerGroups, moeBlock, router, type LayerGroup } from './decoder';

/**
 * DeepSeek-V2 and V3: multi-head latent attention (MLA) and DeepSeekMoE (fine-grained routed experts plus
 * shared experts, the first `first_k_dense_replace` layers dense). Defaults are transformers'
 * DeepseekV2Config / DeepseekV3Config; `moe_layer_freq` and `num_nextn_predict_layers` come from
 * DeepSeek's own configuration files (defaults 1 and 0).
 */

export const DEEPSEEK_FAMILIES: readonly string[] = FAMILIES;

export function deepseekFamily(c: HfConfig, family: 'deepseek_v2' | 'deepseek_v3'): ArchDesc {
  return deepseekArch(resolveDeepseek(c, family));
}

/** DeepSeek's module tree from its one resolved description (engine/config/hf/deepseek.ts). */
export function deepseekArch(cfg: DeepseekConfig): ArchDesc {
  const { family, vocab, hidden, ff, layers: L, heads, tie } = cfg;
  const notes = [...cfg.notes];
  const { kvLora, qLora, rope, nope, v: vDim, bias } = cfg.mla;
  const { routed, shared, expertFF: moeFF, firstDense, freq, topK: k, scoreBias } = cfg.moe;
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
  const isMoe = cfg.isMoeLayer;

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
  const mtp = cfg.mtpLayers;
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

  return decoderLM({
    family,
    modelClass: cfg.modelClass,
    baseClass: `${cfg.prefix}Model`,
    head: cfg.head,
    hidden,
    vocab,
    maxContext: cfg.maxPos,
    groups,
    tie,
    numLabels: cfg.numLabels,
    notes,
    quantization: cfg.quantization,
    storedDtype: cfg.storedDtype,
    extra,
  });
}
