import { big, describeIndices, embedding, indexRange, linear, mod, norm, unembedding } from '../tree';
import type { ArchDesc, AttentionDef, BufferDef, ModuleDef, TensorDef } from '../types';
import type { HfConfig } from '../../config/hf/reader';
import { resolveBart, type BartConfig } from '../../config/hf/bart';
import { resolveT5, type T5Config } from '../../config/hf/t5';
import { attentionNote } from './decoder';

/**
 * Encoder-decoder families: T5 (relative position bias, no biases, RMS-style norms), BART (learned
 * positions with an offset of 2, layernorm_embedding) and Marian (fixed sinusoid positions, post-norm).
 * In FLOPs, a cross-attention's key/value projections are charged to the encoder side: they run once
 * per source token, not once per generated token.
 */

function attn(heads: number, headDim: number, causal: boolean, cross: boolean): AttentionDef {
  return { heads, kvHeads: heads, qkHeadDim: headDim, vHeadDim: headDim, window: null, causal, cross };
}

/** q/k/v/o projections; for cross-attention, k and v sit in a child charged to the encoder. */
function projections(
  name: string,
  names: [string, string, string, string],
  d: number,
  inner: bigint,
  bias: boolean,
  a: AttentionDef,
): ModuleDef {
  const [q, k, v, o] = names;
  const kv = [...linear(k, d, inner, bias), ...linear(v, d, inner, bias)];
  const qo = [...linear(q, d, inner, bias), ...linear(o, inner, d, bias)];
  return mod(name, {
    category: 'attention',
    tensors: a.cross ? qo : [qo[0], ...(bias ? [qo[1]] : []), ...kv, ...qo.slice(bias ? 2 : 1)],
    children: a.cross
      ? [mod('', { label: `${k}, ${v} (once per source token)`, stream: 'encoder', tensors: kv })]
      : [],
    attention: a,
    note: `${a.cross ? 'cross-attention, ' : ''}${attentionNote(a.heads, a.kvHeads, null)}`,
  });
}

export function t5Family(c: HfConfig): ArchDesc {
  return t5Arch(resolveT5(c));
}

/** T5's module tree from its one resolved description (engine/config/hf/t5.ts). */
export function t5Arch(t: T5Config): ArchDesc {
  const notes = [...t.notes];
  const { vocab, hidden: d, headDim: dkv, ff, encoderLayers: Le, decoderLayers: Ld, heads, buckets, tie } = t;
  const gated = t.ffn.gated;
  const inner = big(heads) * big(dkv);
  const cls = t.modelClass;

  const ffn = (): ModuleDef =>
    mod('DenseReluDense', {
      category: 'mlp',
      tensors: gated
        ? [...linear('wi_0', d, ff, false), ...linear('wi_1', d, ff, false), ...linear('wo', ff, d, false)]
        : [...linear('wi', d, ff, false), ...linear('wo', ff, d, false)],
    });
  const sub = (k: number, child: ModuleDef): ModuleDef =>
    mod(`layer.${k}`, { tensors: norm('layer_norm', d, false), children: [child] });
  const stack = (side: 'encoder' | 'decoder', L: number): ModuleDef => {
    const idx = indexRange(0, L);
    const selfAttn = projections(
      'SelfAttention',
      ['q', 'k', 'v', 'o'],
      d,
      inner,
      false,
      attn(heads, dkv, side === 'decoder', false),
    );
    const subs =
      side === 'encoder'
        ? [sub(0, selfAttn), sub(1, ffn())]
        : [
            sub(0, selfAttn),
            sub(
              1,
              projections(
                'EncDecAttention',
                ['q', 'k', 'v', 'o'],
                d,
                inner,
                false,
                attn(heads, dkv, false, true),
              ),
            ),
            sub(2, ffn()),
          ];
    return mod(side, {
      stream: side,
      tensors: [{ ...embedding('embed_tokens.weight', vocab, d, 'embedding'), tiedTo: 'shared.weight' }],
      children: [
        mod('block', {
          label: `block ${describeIndices(idx)}`,
          repeat: { count: idx.count, indices: idx },
          children: subs,
        }),
        mod('block.0.layer.0.SelfAttention', {
          label: 'relative position bias (block 0 only, shared by all blocks)',
          category: 'attention',
          tensors: [
            { name: 'relative_attention_bias.weight', shape: [big(buckets), big(heads)], role: 'other' },
          ],
        }),
        mod('', { label: 'final_layer_norm', tensors: norm('final_layer_norm', d, false) }),
      ],
    });
  };
  const children: ModuleDef[] = [
    mod('', { label: 'shared', tensors: [embedding('shared.weight', vocab, d, 'embedding')] }),
    stack('encoder', Le),
    stack('decoder', Ld),
  ];
  if (cls === 'T5ForConditionalGeneration') {
    children.push(
      mod('', {
        label: 'lm_head',
        only: 'task',
        stream: 'decoder',
        tensors: [unembedding('lm_head.weight', vocab, d, tie ? 'shared.weight' : undefined)],
        note: tie ? 'tied to shared.weight: counted once' : undefined,
      }),
    );
  }
  return {
    family: 't5',
    kind: 'encoder-decoder',
    modelClass: cls,
    baseClass: 'T5Model',
    hidden: d,
    vocab,
    maxContext: t.maxPos,
    root: mod('', { children }),
    buffers: [],
    quantization: t.quantization,
    storedDtype: t.storedDtype,
    notes: [
      ...notes,
      'T5 has relative position buckets, not a position table: its context is not limited by the weights',
    ],
  };
}

/** BART and Marian: the same layer layout (fairseq names), different embeddings. */
export function bartFamily(c: HfConfig, family: 'bart' | 'marian'): ArchDesc {
  return bartArch(resolveBart(c, family));
}

/** BART's or Marian's module tree from the one resolved description (engine/config/hf/bart.ts). */
export function bartArch(b: BartConfig): ArchDesc {
  const notes = [...b.notes];
  const family = b.family;
  const marian = family === 'marian';
  const { vocab, decoderVocab: decVocab, hidden: d, maxPos, share, tie, taskClass } = b;
  const [Le, Ld, He, Hd, hdE, hdD, ffE, ffD] = [b.encoder.layers, b.decoder.layers, b.encoder.heads, b.decoder.heads, b.encoder.headDim, b.decoder.headDim, b.encoder.ff, b.decoder.ff];
  const P = b.prefix;
  const cls = b.modelClass;
  const pre = cls === `${P}Model` ? '' : 'model';
  const full = (n: string): string => (pre ? `${pre}.${n}` : n);

  const buffers: BufferDef[] = [];
  const sharedName = full('shared.weight');
  const embedOf = (side: 'encoder' | 'decoder'): TensorDef =>
    share
      ? { ...embedding('embed_tokens.weight', vocab, d, 'embedding'), tiedTo: sharedName }
      : embedding('embed_tokens.weight', side === 'encoder' ? vocab : decVocab, d, 'embedding');
  const stack = (side: 'encoder' | 'decoder'): ModuleDef => {
    const L = side === 'encoder' ? Le : Ld;
    const H = side === 'encoder' ? He : Hd;
    const hd = side === 'encoder' ? hdE : hdD;
    const ff = side === 'encoder' ? ffE : ffD;
    const idx = indexRange(0, L);
    const names: [string, string, string, string] = ['q_proj', 'k_proj', 'v_proj', 'out_proj'];
    const kids = [projections('self_attn', names, d, big(d), true, attn(H, hd, side === 'decoder', false))];
    const tensors: TensorDef[] = [...norm('self_attn_layer_norm', d, true)];
    if (side === 'decoder') {
      kids.push(projections('encoder_attn', names, d, big(d), true, attn(H, hd, false, true)));
      tensors.push(...norm('encoder_attn_layer_norm', d, true));
    }
    kids.push(
      mod('', {
        label: 'fc1, fc2',
        category: 'mlp',
        tensors: [...linear('fc1', d, ff, true), ...linear('fc2', ff, d, true)],
      }),
    );
    tensors.push(...norm('final_layer_norm', d, true));
    const stackTensors: TensorDef[] = [embedOf(side)];
    stackTensors.push(
      marian
        ? {
            ...embedding('embed_positions.weight', maxPos, d, 'positions'),
            frozen: true,
            note: 'fixed sinusoid table, never trained: transformers holds it as a frozen nn.Parameter and counts it',
          }
        : embedding('embed_positions.weight', big(maxPos) + 2n, d, 'positions'),
    );
    const children: ModuleDef[] = [
      mod('layers', {
        label: `layers ${describeIndices(idx)}`,
        repeat: { count: idx.count, indices: idx },
        tensors,
        children: kids,
      }),
    ];
    if (!marian)
      children.push(mod('', { label: 'layernorm_embedding', tensors: norm('layernorm_embedding', d, true) }));
    return mod(side, { stream: side, tensors: stackTensors, children });
  };
  const model = mod(pre, {
    label: pre || `${P}Model`,
    tensors: share ? [embedding('shared.weight', vocab, d, 'embedding')] : [],
    children: [stack('encoder'), stack('decoder')],
  });
  const children: ModuleDef[] = [model];
  if (cls === taskClass) {
    const tiedTo = !tie ? undefined : share ? sharedName : full('decoder.embed_tokens.weight');
    children.push(
      mod('', {
        label: 'lm_head',
        only: 'task',
        stream: 'decoder',
        tensors: [unembedding('lm_head.weight', decVocab, d, tiedTo)],
        note: tiedTo ? `tied to ${tiedTo}: counted once` : undefined,
      }),
    );
    buffers.push({
      name: 'final_logits_bias',
      shape: [1n, big(decVocab)],
      note: 'a registered buffer added to the logits, not a parameter',
    });
  } else if (cls === `${P}ForSequenceClassification`) {
    children.push(
      mod('classification_head', {
        category: 'head',
        only: 'task',
        stream: 'sequence',
        tensors: [...linear('dense', d, d, true), ...linear('out_proj', d, b.numLabels, true)],
      }),
    );
  }
  if (marian)
    notes.push(
      'Marian positions are fixed sinusoid tables that transformers (and the engine) hold as frozen parameters: counted in the total, left out of the learned-only count',
    );
  else notes.push('BART position tables have max_position_embeddings + 2 rows (an offset of 2)');
  return {
    family,
    kind: 'encoder-decoder',
    modelClass: cls,
    baseClass: `${P}Model`,
    hidden: d,
    vocab,
    maxContext: maxPos,
    root: mod('', { children }),
    buffers,
    quantization: b.quantization,
    storedDtype: b.storedDtype,
    notes,
  };
}
