import { big, describeIndices, embedding, linear, mod, norm, unembedding } from '../tree';
import type { ArchDesc, BufferDef, IndexSet, ModuleDef, QuantizationInfo, TensorDef } from '../types';
import type { HeadKind } from '../../config/hf/reader';

/** Building blocks shared by the decoder-only families (Llama-style module names). */

export interface AttnSpec {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  qkvBias: boolean;
  oBias: boolean;
  /** Phi-3 stores q, k and v in one `qkv_proj`. */
  fusedQkv?: boolean;
  window: number | null;
}

/** Multi-head, grouped-query or multi-query self-attention: q_proj, k_proj, v_proj, o_proj. */
export function selfAttention(a: AttnSpec, name = 'self_attn'): ModuleDef {
  const q = big(a.heads) * big(a.headDim);
  const kv = big(a.kvHeads) * big(a.headDim);
  const tensors = a.fusedQkv
    ? [...linear('qkv_proj', a.hidden, q + 2n * kv, a.qkvBias), ...linear('o_proj', q, a.hidden, a.oBias)]
    : [
        ...linear('q_proj', a.hidden, q, a.qkvBias),
        ...linear('k_proj', a.hidden, kv, a.qkvBias),
        ...linear('v_proj', a.hidden, kv, a.qkvBias),
        ...linear('o_proj', q, a.hidden, a.oBias),
      ];
  return mod(name, {
    category: 'attention',
    tensors,
    attention: {
      heads: a.heads,
      kvHeads: a.kvHeads,
      qkHeadDim: a.headDim,
      vHeadDim: a.headDim,
      window: a.window === null ? null : big(a.window),
      causal: true,
      cross: false,
    },
    note: attentionNote(a.heads, a.kvHeads, a.window),
  });
}

export function attentionNote(heads: number, kvHeads: number, window: number | bigint | null): string {
  const kind =
    kvHeads === heads
      ? `multi-head (${heads} heads)`
      : kvHeads === 1
        ? `multi-query (${heads} heads, 1 kv head)`
        : `grouped-query (${heads} heads, ${kvHeads} kv heads)`;
  return window === null ? kind : `${kind}, sliding window ${window}`;
}

export type MlpStyle = 'llama' | 'phi3' | 'mixtral';

/** A gated (SwiGLU/GeGLU) MLP of width `ff`. */
export function gatedMlp(hidden: number, ff: number, bias: boolean, style: MlpStyle = 'llama'): TensorDef[] {
  switch (style) {
    case 'llama':
      return [
        ...linear('gate_proj', hidden, ff, bias),
        ...linear('up_proj', hidden, ff, bias),
        ...linear('down_proj', ff, hidden, bias),
      ];
    case 'phi3':
      return [
        ...linear('gate_up_proj', hidden, big(ff) * 2n, bias),
        ...linear('down_proj', ff, hidden, bias),
      ];
    case 'mixtral':
      return [
        ...linear('w1', hidden, ff, bias),
        ...linear('w2', ff, hidden, bias),
        ...linear('w3', hidden, ff, bias),
      ];
  }
}

export interface MoeSpec {
  name: string;
  hidden: number;
  experts: number;
  topK: number;
  expertFF: number;
  style: MlpStyle;
  /** Router tensors (named `gate.weight` in every family here). */
  router: TensorDef[];
  shared?: { name: string; ff: number; gate?: boolean; count?: number };
}

/** Routed experts (E of them, top-k active per token), an optional shared expert, and the router. */
export function moeBlock(s: MoeSpec): ModuleDef {
  const children: ModuleDef[] = [
    mod('experts', {
      label: `experts ×${s.experts} (${s.topK} active per token)`,
      category: 'experts',
      repeat: { count: big(s.experts), active: big(s.topK) },
      tensors: gatedMlp(s.hidden, s.expertFF, false, s.style),
    }),
  ];
  const tensors = [...s.router];
  if (s.shared) {
    const n = s.shared.count ?? 1;
    children.push(
      mod(s.shared.name, {
        category: 'shared_experts',
        tensors: gatedMlp(s.hidden, s.shared.ff, false, s.style),
        note:
          n > 1
            ? `${n} shared experts fused into one MLP of width ${s.shared.ff}`
            : 'shared expert: every token uses it',
      }),
    );
    if (s.shared.gate)
      tensors.push({ ...linear('shared_expert_gate', s.hidden, 1, false)[0], role: 'router' });
  }
  return mod(s.name, {
    category: 'experts',
    tensors,
    children,
    note: `mixture of experts: ${s.experts} routed experts of width ${s.expertFF}, top-${s.topK}`,
  });
}

/** `gate.weight` [E, hidden]: the router is a linear map but is never quantised (role router). */
export function router(hidden: number, experts: number, name = 'gate'): TensorDef[] {
  return [{ ...linear(name, hidden, experts, false)[0], role: 'router' }];
}

export interface LayerGroup {
  indices: IndexSet;
  /** Shown after the indices: `sliding window 4096`, `MoE`. */
  what?: string;
  children: ModuleDef[];
  tensors: TensorDef[];
}

export interface DecoderLMSpec {
  family: string;
  modelClass: string;
  baseClass: string;
  head: HeadKind;
  hidden: number;
  vocab: number;
  maxContext: number | null;
  groups: LayerGroup[];
  tie: boolean;
  /** RMSNorm (no bias) unless said. */
  finalNormBias?: boolean;
  numLabels: number;
  notes: string[];
  quantization: QuantizationInfo | null;
  storedDtype: string | null;
  extra?: { module: ModuleDef; label: string };
  buffers?: BufferDef[];
}

export function layerGroups(groups: LayerGroup[], name = 'layers'): ModuleDef[] {
  return groups
    .filter((g) => g.indices.count > 0n)
    .map((g) =>
      mod(name, {
        label: `${name} ${describeIndices(g.indices)}${g.what ? ` (${g.what})` : ''}`,
        repeat: { count: g.indices.count, indices: g.indices },
        tensors: g.tensors,
        children: g.children,
      }),
    );
}

/** `XForCausalLM`: model.embed_tokens, model.layers.{i}, model.norm, lm_head (tied or not). */
export function decoderLM(s: DecoderLMSpec): ArchDesc {
  const model = mod('model', {
    tensors: [embedding('embed_tokens.weight', s.vocab, s.hidden, 'embedding')],
    children: [
      ...layerGroups(s.groups),
      mod('', { label: 'norm', tensors: norm('norm', s.hidden, s.finalNormBias ?? false) }),
    ],
  });
  const children: ModuleDef[] = [model];
  if (s.head === 'lm') {
    children.push(
      mod('', {
        label: 'lm_head',
        category: 'head',
        only: 'task',
        tensors: [
          unembedding('lm_head.weight', s.vocab, s.hidden, s.tie ? 'model.embed_tokens.weight' : undefined),
        ],
        note: s.tie ? 'tied to model.embed_tokens.weight: counted once' : undefined,
      }),
    );
  } else if (s.head === 'seq_cls') {
    children.push(
      mod('', {
        label: 'score',
        category: 'head',
        only: 'task',
        stream: 'sequence',
        tensors: linear('score', s.hidden, s.numLabels, false),
        note: `sequence classification over ${s.numLabels} labels (applied once per sequence)`,
      }),
    );
  }
  if (s.extra) children.push(s.extra.module);
  return {
    family: s.family,
    kind: 'decoder',
    modelClass: s.modelClass,
    baseClass: s.baseClass,
    hidden: s.hidden,
    vocab: s.vocab,
    maxContext: s.maxContext,
    root: mod('', { children }),
    buffers: s.buffers ?? [],
    quantization: s.quantization,
    storedDtype: s.storedDtype,
    notes: s.notes,
    ...(s.extra ? { extraLabel: s.extra.label } : {}),
  };
}
