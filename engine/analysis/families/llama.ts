import { InspectorError } from '../../errors';
import { mod, norm, partitionLayers } from '../tree';
import type { ArchDesc, ModuleDef, TensorDef } from '../types';
import type { HfConfig } from '../../config/hf/reader';
import { LLAMA_FAMILIES as FAMILIES, readTopK, resolveLlama, type LlamaConfig, type LlamaFamily } from '../../config/hf/llama';
import {
  decoderLM,
  gatedMlp,
  moeBlock,
  router,
  selfAttention,
  type LayerGroup,
  type MlpStyle,
} from './decoder';

/**
 * The Llama-shaped decoder families as a module tree, derived from the one resolved description
 * (engine/config/hf/llama.ts, where the family defaults live): no config key is read here.
 */

export const LLAMA_FAMILIES: readonly string[] = FAMILIES;

export function llamaFamily(c: HfConfig, family: string): ArchDesc {
  return llamaArch(resolveLlama(c, family as LlamaFamily));
}

export function llamaArch(cfg: LlamaConfig): ArchDesc {
  const { family, hidden, ff, heads, kvHeads, headDim, layers: L } = cfg;
  const notes = [...cfg.notes];
  const windowSize = cfg.window.size;
  const sliding = cfg.window.sliding;
  const breakpoints = [...cfg.window.breakpoints];
  let period = cfg.window.period;
  const isMoe = cfg.isMoeLayer;
  let moe: ((hidden: number) => ModuleDef) | null = null;
  const m = cfg.moe;
  if (m?.kind === 'mixtral') {
    moe = (h) => moeBlock({ name: 'block_sparse_moe', hidden: h, experts: m.experts, topK: m.topK, expertFF: m.expertFF, style: 'mixtral', router: router(h, m.experts) });
  } else if (m?.kind === 'qwen2_moe') {
    moe = (h) =>
      moeBlock({
        name: 'mlp',
        hidden: h,
        experts: m.experts,
        topK: m.topK,
        expertFF: m.expertFF,
        style: 'llama',
        router: router(h, m.experts),
        shared: { name: 'shared_expert', ff: m.sharedFF, gate: true },
      });
    period = lcm(period, m.sparseStep);
    for (const i of m.mlpOnly) breakpoints.push(i, i + 1);
  }
  const qkvBias = cfg.bias.qkv;
  const oBias = cfg.bias.o;
  const mlpBias = cfg.bias.mlp;

  const style: MlpStyle = cfg.fused ? 'phi3' : 'llama';
  const norms: TensorDef[] =
    cfg.norm.sandwich
      ? [
          'input_layernorm',
          'post_attention_layernorm',
          'pre_feedforward_layernorm',
          'post_feedforward_layernorm',
        ].flatMap((n) => norm(n, hidden, false))
      : [...norm('input_layernorm', hidden, false), ...norm('post_attention_layernorm', hidden, false)];

  if ((breakpoints.length + 1) * period > 1_000_000) {
    throw new InspectorError(
      `the per-layer pattern is too irregular to analyse (${breakpoints.length} exceptions × period ${period})`,
      { file: cfg.file, key: 'mlp_only_layers' },
    );
  }
  const parts = partitionLayers(
    L,
    breakpoints,
    period,
    (i) => `${sliding(i) ? 'sliding' : 'full'}|${isMoe(i) ? 'moe' : 'dense'}`,
  );
  const groups: LayerGroup[] = [];
  const slidingKinds = new Set([...parts.keys()].map((k) => k.split('|')[0]));
  const moeKinds = new Set([...parts.keys()].map((k) => k.split('|')[1]));
  for (const [key, indices] of parts) {
    const [sw, mlpKind] = key.split('|');
    const window = sw === 'sliding' ? windowSize : null;
    const attn = selfAttention({
      hidden,
      heads,
      kvHeads,
      headDim,
      qkvBias,
      oBias,
      window,
      fusedQkv: cfg.fused,
    });
    const mlp =
      mlpKind === 'moe' && moe
        ? moe(hidden)
        : mod('mlp', { category: 'mlp', tensors: gatedMlp(hidden, ff, mlpBias, style) });
    const what = [
      slidingKinds.size > 1 || window !== null
        ? window !== null
          ? `sliding window ${window}`
          : 'global attention'
        : '',
      moeKinds.size > 1 ? (mlpKind === 'moe' ? 'MoE' : 'dense MLP') : '',
    ]
      .filter(Boolean)
      .join(', ');
    groups.push({ indices, what: what || undefined, children: [attn, mlp], tensors: norms });
  }

  return decoderLM({
    family,
    modelClass: cfg.modelClass,
    baseClass: `${cfg.prefix}Model`,
    head: cfg.head,
    hidden,
    vocab: cfg.vocab,
    maxContext: cfg.maxPos,
    groups,
    tie: cfg.tie,
    numLabels: cfg.numLabels,
    notes,
    quantization: cfg.quantization,
    storedDtype: cfg.storedDtype,
  });
}


export function topK(c: HfConfig, key: string, def: number, experts: number, expertsKey: string): number {
  return readTopK(c, key, def, experts, expertsKey);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
