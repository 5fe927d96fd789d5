import { big, conv1d, describeIndices, embedding, indexRange, linear, mod, norm, unembedding } from '../tree';
import type { ArchDesc, ModuleDef, TensorDef } from '../types';
import type { HfConfig } from '../../config/hf/reader';
import { resolveGpt2, type Gpt2Config } from '../../config/hf/gpt2';
import { resolveBert, type BertConfig } from '../../config/hf/bert';
import { attentionNote } from './decoder';

/** GPT-2 (decoder, Conv1D weights stored [in, out]) and BERT (encoder, with its pooler and task heads). */

export function gpt2Family(c: HfConfig): ArchDesc {
  return gpt2Arch(resolveGpt2(c));
}

/** GPT-2's module tree from its one resolved description (engine/config/hf/gpt2.ts). */
export function gpt2Arch(g: Gpt2Config): ArchDesc {
  const { vocab, maxPos, hidden: d, layers: L, heads, headDim, inner, tie, cross, head } = g;
  const attn = mod('attn', {
    category: 'attention',
    tensors: [...conv1d('c_attn', d, 3 * d), ...conv1d('c_proj', d, d)],
    attention: {
      heads,
      kvHeads: heads,
      qkHeadDim: headDim,
      vHeadDim: headDim,
      window: null,
      causal: true,
      cross: false,
    },
    note: `${attentionNote(heads, heads, null)}; q, k, v fused in c_attn`,
  });
  const children: ModuleDef[] = [attn];
  const tensors: TensorDef[] = [...norm('ln_1', d, true), ...norm('ln_2', d, true)];
  if (cross) {
    children.push(
      mod('crossattention', {
        category: 'attention',
        tensors: [...conv1d('c_attn', d, 2 * d), ...conv1d('q_attn', d, d), ...conv1d('c_proj', d, d)],
        attention: {
          heads,
          kvHeads: heads,
          qkHeadDim: headDim,
          vHeadDim: headDim,
          window: null,
          causal: false,
          cross: true,
        },
      }),
    );
    tensors.push(...norm('ln_cross_attn', d, true));
  }
  children.push(
    mod('mlp', { category: 'mlp', tensors: [...conv1d('c_fc', d, inner), ...conv1d('c_proj', inner, d)] }),
  );
  const h = indexRange(0, L);
  const transformer = mod('transformer', {
    tensors: [
      embedding('wte.weight', vocab, d, 'embedding'),
      embedding('wpe.weight', maxPos, d, 'positions'),
    ],
    children: [
      mod('h', {
        label: `h ${describeIndices(h)}`,
        repeat: { count: h.count, indices: h },
        tensors,
        children,
      }),
      mod('', { label: 'ln_f', tensors: norm('ln_f', d, true) }),
    ],
  });
  const root: ModuleDef[] = [transformer];
  if (head === 'lm') {
    root.push(
      mod('', {
        label: 'lm_head',
        category: 'head',
        only: 'task',
        tensors: [unembedding('lm_head.weight', vocab, d, tie ? 'transformer.wte.weight' : undefined)],
        note: tie ? 'tied to transformer.wte.weight: counted once' : undefined,
      }),
    );
  } else if (head === 'seq_cls') {
    const n = g.numLabels;
    root.push(
      mod('', {
        label: 'score',
        category: 'head',
        only: 'task',
        stream: 'sequence',
        tensors: linear('score', d, n, false),
      }),
    );
  }
  return {
    family: 'gpt2',
    kind: 'decoder',
    modelClass: g.modelClass,
    baseClass: 'GPT2Model',
    hidden: d,
    vocab,
    maxContext: maxPos,
    root: mod('', { children: root }),
    buffers: [],
    quantization: g.quantization,
    storedDtype: g.storedDtype,
    notes: g.notes,
  };
}

export function bertFamily(c: HfConfig): ArchDesc {
  return bertArch(resolveBert(c));
}

/** BERT's module tree from its one resolved description (engine/config/hf/bert.ts). */
export function bertArch(b: BertConfig): ArchDesc {
  const notes = [...b.notes];
  const { vocab, hidden: d, layers: L, heads, headDim, ff, maxPos, typeVocab: types, positionType: posType, head, pooler } = b;
  const arch = b.modelClass;
  const p = arch === 'BertModel' ? '' : 'bert';
  const full = (n: string): string => (p ? `${p}.${n}` : n);

  const embTensors: TensorDef[] = [embedding('word_embeddings.weight', vocab, d, 'embedding')];
  if (posType === 'absolute')
    embTensors.push(embedding('position_embeddings.weight', maxPos, d, 'positions'));
  if (types > 0) embTensors.push(embedding('token_type_embeddings.weight', types, d, 'token_types'));
  embTensors.push(...norm('LayerNorm', d, true));
  const selfTensors: TensorDef[] = [
    ...linear('query', d, d, true),
    ...linear('key', d, d, true),
    ...linear('value', d, d, true),
  ];
  if (posType === 'relative_key' || posType === 'relative_key_query') {
    selfTensors.push({
      name: 'distance_embedding.weight',
      shape: [2n * big(maxPos) - 1n, big(headDim)],
      role: 'other',
    });
  }
  const layer = indexRange(0, L);
  const bert = mod(p, {
    label: p || 'BertModel',
    children: [
      mod('embeddings', { category: 'embeddings', tensors: embTensors }),
      mod('encoder', {
        children: [
          mod('layer', {
            label: `layer ${describeIndices(layer)}`,
            repeat: { count: layer.count, indices: layer },
            children: [
              mod('attention', {
                category: 'attention',
                children: [
                  mod('self', {
                    tensors: selfTensors,
                    attention: {
                      heads,
                      kvHeads: heads,
                      qkHeadDim: headDim,
                      vHeadDim: headDim,
                      window: null,
                      causal: false,
                      cross: false,
                    },
                    note: attentionNote(heads, heads, null),
                  }),
                  mod('output', { tensors: [...linear('dense', d, d, true), ...norm('LayerNorm', d, true)] }),
                ],
              }),
              mod('intermediate', { category: 'mlp', tensors: linear('dense', d, ff, true) }),
              mod('output', {
                category: 'mlp',
                tensors: [...linear('dense', ff, d, true), ...norm('LayerNorm', d, true)],
              }),
            ],
          }),
        ],
      }),
      mod('pooler', {
        category: 'head',
        stream: 'sequence',
        tensors: linear('dense', d, d, true),
        ...(pooler ? {} : { only: 'base' as const }),
        note: pooler
          ? 'tanh(W·h[CLS] + b), once per sequence'
          : `in ${'BertModel'} only: ${arch} has no pooler`,
      }),
    ],
  });
  const heads_: ModuleDef[] = [];
  const cls = 'cls';
  if (head === 'mlm' || head === 'pretraining') {
    heads_.push(
      mod(cls, {
        category: 'head',
        only: 'task',
        children: [
          mod('predictions', {
            label: 'MLM head (cls.predictions)',
            tensors: [
              { name: 'bias', shape: [big(vocab)], role: 'bias', note: 'output bias over the vocabulary' },
              unembedding('decoder.weight', vocab, d, full('embeddings.word_embeddings.weight')),
              { name: 'decoder.bias', shape: [big(vocab)], role: 'bias', tiedTo: 'cls.predictions.bias' },
            ],
            children: [
              mod('transform', { tensors: [...linear('dense', d, d, true), ...norm('LayerNorm', d, true)] }),
            ],
            note: 'decoder.weight is tied to the word embeddings and decoder.bias is cls.predictions.bias: counted once',
          }),
          ...(head === 'pretraining'
            ? [
                mod('', {
                  label: 'NSP head',
                  stream: 'sequence',
                  tensors: linear('seq_relationship', d, 2, true),
                }),
              ]
            : []),
        ],
      }),
    );
  } else if (head === 'nsp') {
    heads_.push(
      mod(cls, {
        category: 'head',
        only: 'task',
        stream: 'sequence',
        tensors: linear('seq_relationship', d, 2, true),
      }),
    );
  } else if (head === 'seq_cls' || head === 'multiple_choice') {
    const n = head === 'seq_cls' ? b.numLabels : 1;
    heads_.push(
      mod('', {
        label: 'classifier',
        category: 'head',
        only: 'task',
        stream: 'sequence',
        tensors: linear('classifier', d, n, true),
      }),
    );
  } else if (head === 'token_cls') {
    heads_.push(
      mod('', {
        label: 'classifier',
        category: 'head',
        only: 'task',
        tensors: linear('classifier', d, b.numLabels, true),
      }),
    );
  } else if (head === 'qa') {
    heads_.push(
      mod('', {
        label: 'qa_outputs',
        category: 'head',
        only: 'task',
        tensors: linear('qa_outputs', d, 2, true),
      }),
    );
  }
  return {
    family: 'bert',
    kind: 'encoder',
    modelClass: arch,
    baseClass: 'BertModel',
    hidden: d,
    vocab,
    maxContext: maxPos,
    root: mod('', { children: [bert, ...heads_] }),
    buffers: [],
    quantization: b.quantization,
    storedDtype: b.storedDtype,
    notes,
  };
}
