import type { ModelSpec } from '../../model/spec';
import { normParamShapes } from '../../nn/norm';
import { big, describeIndices, embedding, indexRange, linear, mod, unembedding } from '../tree';
import type { ArchDesc, AttentionDef, ModuleDef, Stream, TensorDef } from '../types';
import { attentionNote } from './decoder';

/**
 * The native `*.transformer.json` family, from the ModelSpec the engine builds. Names and shapes are
 * exactly those `buildNativeModel` allocates (engine/model/native.ts), so the analytic count equals
 * `model.parameterCount()`: a test checks it for every architecture and option.
 */
export function nativeArch(spec: ModelSpec): ArchDesc {
  const d = spec.dModel;
  const shapes = normParamShapes(spec.norm, d);
  const norm = (name: string): TensorDef[] => [
    { name: `${name}.weight`, shape: shapes.weight.map(big), role: 'norm' },
    ...(shapes.bias ? [{ name: `${name}.bias`, shape: shapes.bias.map(big), role: 'norm' as const }] : []),
  ];
  const kvWidth = big(spec.kvHeads) * big(spec.headDim);
  /** linear_q/k/v/out; k and v are kv_heads × d_head wide (grouped-query when fewer heads). */
  const mha = (name: string, a: AttentionDef, kvStream?: Stream, label?: string): ModuleDef => {
    const q = linear('linear_q', d, d, true);
    const kv = [...linear('linear_k', d, kvWidth, true), ...linear('linear_v', d, kvWidth, true)];
    const o = linear('linear_out', d, d, true);
    return mod(name, {
      ...(label ? { label } : {}),
      category: 'attention',
      tensors: kvStream ? [...q, ...o] : [...q, ...kv, ...o],
      children: kvStream
        ? [mod('', { label: 'linear_k, linear_v (once per source token)', stream: kvStream, tensors: kv })]
        : [],
      attention: a,
      note: `${a.cross ? 'cross-attention, ' : ''}${attentionNote(a.heads, a.kvHeads, a.window)}`,
    });
  };
  const attnDef = (causal: boolean, cross: boolean, window: bigint | null): AttentionDef => ({
    heads: spec.numHeads,
    kvHeads: spec.kvHeads,
    qkHeadDim: spec.headDim,
    vHeadDim: spec.headDim,
    window,
    causal,
    cross,
  });
  // Sliding-window and chunked mask rules bound how many keys a query sees (and a decoder caches).
  let window: bigint | null = null;
  for (const r of spec.maskRules) {
    const w = r.kind === 'sliding_window' ? big(r.window) : r.kind === 'chunked' ? big(r.size) : null;
    if (w !== null && (window === null || w < window)) window = w;
  }
  const selfAttention = (causal: boolean): ModuleDef => {
    if (spec.attention.kind !== 'latent_bottleneck') return mha('attn', attnDef(causal, false, window));
    // Perceiver-style: m learned latents attend to the tokens, then the tokens attend to the latents;
    // per token that is m keys in each direction.
    const m = big(spec.attention.numLatents);
    return mod('attn', {
      category: 'attention',
      tensors: [embedding('latents', m, d, 'other')],
      children: [mha('to_latents', attnDef(false, false, m)), mha('from_latents', attnDef(false, false, m))],
      note: `latent bottleneck: ${m} learned latents (Perceiver-style; not DeepSeek's MLA)`,
    });
  };
  const encDec = spec.architecture === 'encoder-decoder';

  const stack = (side: 'encoder' | 'decoder', L: number, cross: boolean, stream?: Stream): ModuleDef => {
    const idx = indexRange(0, L);
    const children: ModuleDef[] = [selfAttention(side === 'decoder')];
    const tensors: TensorDef[] = [...norm('addnorm1.norm')];
    if (cross) {
      children.push(mha('cross_attn', attnDef(false, true, null), 'encoder'));
      tensors.push(...norm('addnorm2.norm'));
    }
    const gate = spec.ffn === 'mlp' ? [] : linear('linear_gate', d, spec.dFF, true);
    children.push(
      mod('ffn', {
        category: 'mlp',
        tensors: [...linear('linear1', d, spec.dFF, true), ...linear('linear2', spec.dFF, d, true), ...gate],
        ...(spec.ffn === 'mlp'
          ? {}
          : { note: `${spec.ffn}: gate (linear_gate), up (linear1), down (linear2)` }),
      }),
    );
    tensors.push(...norm(`addnorm${cross ? 3 : 2}.norm`));
    return mod(side, {
      ...(stream ? { stream } : {}),
      children: [
        mod('layers', {
          label: `layers ${describeIndices(idx)}${spec.sharedLayers ? ' (one shared set of weights)' : ''}`,
          repeat: { count: idx.count, indices: idx, shared: spec.sharedLayers },
          tensors,
          children,
          note: spec.sharedLayers
            ? 'shared_layers: every layer uses layer 0’s weights, counted once'
            : undefined,
        }),
        ...(spec.finalNorm ? [mod('', { label: 'norm', tensors: norm('norm') })] : []),
      ],
    });
  };
  const positions = (name: string): TensorDef[] =>
    spec.positional.kind === 'learned' ? [embedding(name, spec.maxLen, d, 'positions')] : [];

  const children: ModuleDef[] = [];
  let outName: string;
  if (encDec) {
    const src: TensorDef[] = [
      embedding('src_embedding.weight', spec.vocabSize, d, 'embedding'),
      ...positions('src_pos_embedding.weight'),
    ];
    const tgt: TensorDef[] = [
      spec.shareEmbeddings
        ? {
            ...embedding('tgt_embedding.weight', spec.tgtVocabSize, d, 'embedding'),
            tiedTo: 'src_embedding.weight',
          }
        : embedding('tgt_embedding.weight', spec.tgtVocabSize, d, 'embedding'),
      ...positions('tgt_pos_embedding.weight'),
    ];
    children.push(mod('', { label: 'source embeddings', stream: 'encoder', tensors: src }));
    children.push(mod('', { label: 'target embeddings', stream: 'decoder', tensors: tgt }));
    children.push(
      stack('encoder', spec.numLayers, false, 'encoder'),
      stack('decoder', spec.numDecoderLayers, true, 'decoder'),
    );
    outName = spec.shareEmbeddings ? 'src_embedding.weight' : 'tgt_embedding.weight';
  } else {
    children.push(
      mod('', {
        label: 'embeddings',
        tensors: [
          embedding('embedding.weight', spec.vocabSize, d, 'embedding'),
          ...positions('pos_embedding.weight'),
        ],
      }),
    );
    children.push(stack(spec.architecture === 'encoder' ? 'encoder' : 'decoder', spec.numLayers, false));
    outName = 'embedding.weight';
  }
  const V = spec.tgtVocabSize;
  const head: TensorDef[] = [unembedding('fc_out.weight', V, d, spec.tieEmbeddings ? outName : undefined)];
  if (spec.outputBias) head.push(...linear('fc_out', d, V, true).slice(1));
  children.push(
    mod('', {
      label: 'fc_out',
      category: 'head',
      only: 'task',
      ...(encDec ? { stream: 'decoder' as const } : {}),
      tensors: head,
      note: spec.tieEmbeddings ? `weight tied to ${outName}: counted once` : undefined,
    }),
  );
  const notes: string[] = [];
  if (spec.positional.kind === 'sinusoidal') notes.push('sinusoidal positions are computed, not parameters');
  if (spec.positional.kind === 'rotary') notes.push('rotary positions (RoPE) have no parameters');
  if (spec.attention.kind === 'latent_bottleneck') {
    notes.push(
      'latent bottleneck FLOPs count every projection per token (the latents’ own projections run once per sequence, so this is an upper bound)',
    );
  }
  return {
    family: 'native',
    kind: spec.architecture,
    modelClass: 'native Transformer with its output projection (fc_out)',
    baseClass: 'native Transformer without fc_out',
    hidden: d,
    vocab: spec.vocabSize,
    maxContext: spec.maxLen,
    root: mod('', { children }),
    buffers: [],
    quantization: null,
    storedDtype: null,
    notes,
  };
}
