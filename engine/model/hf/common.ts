import { deriveTensor } from '../streaming';
import { Tensor } from '../../tensor';
import { Linear } from '../../nn/linear';
import type { WeightLoader, WeightSource } from '../weights';
import type { ModelSpec } from '../spec';
import { TransformerModel, type HeadExtras, type Side } from '../transformer';
import { HF_ACTIVATIONS } from '../../config/hf/activation';

/** The spec fields every Hugging Face family shares (inference only: no dropout; HF masks only by attention_mask). */
export const HF_SPEC_DEFAULTS = {
  numDecoderLayers: 0,
  dropout: 0,
  attention: { kind: 'standard' },
  attentionImpl: 'plain',
  maskRules: [],
  padTokenId: null,
  shareEmbeddings: false,
  sharedLayers: false,
  seed: 0,
} as const satisfies Partial<ModelSpec>;

/** A causal LM's `lm_head`: the token embedding when tie_word_embeddings (a copy in the file is checked), else its own matrix. */
export function causalLmHead(w: WeightLoader, spec: ModelSpec, embedding: Tensor): Linear {
  if (!spec.tieEmbeddings) return linear(w, 'lm_head', spec.vocabSize, spec.dModel, false);
  w.acknowledgeCopy('lm_head.weight', embedding, 'tie_word_embeddings is true');
  return new Linear(embedding);
}

/** The model from its parts, with the loader's parameters, unused tensors and source description. */
export function assemble(
  spec: ModelSpec,
  w: WeightLoader,
  source: WeightSource | undefined,
  main: Side,
  decoder: Side | undefined,
  head: Linear,
  extras: HeadExtras = {},
): TransformerModel {
  const description = source?.description ?? `seeded random weights (seed ${spec.seed})`;
  return new TransformerModel(
    spec,
    main,
    decoder,
    head,
    w.parameters(),
    w.unused(),
    description,
    !source,
    extras,
    w.computed(),
  );
}

export { HF_ACTIVATIONS };

/**
 * Checkpoints of one family differ in a name prefix (GPT-2's official file has `h.0…`, a saved
 * GPT2LMHeadModel has `transformer.h.0…`; BERT has `bert.` in task models). Pick the one the file uses.
 */
export function detectPrefix(source: WeightSource | undefined, probe: string, prefixes: string[]): string {
  if (!source) return prefixes[0];
  for (const p of prefixes) if (source.shapeOf(p + probe) !== undefined) return p;
  return prefixes[0];
}

/** (Both are derived lazily from a streamed weight, so layer streaming covers GPT-2's Conv1D layout too.) */
export function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.shape as [number, number];
  return deriveTensor(t, [c, r], (src, out) => {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j];
  });
}

/** Rows [from, to) of a [rows, cols] matrix, or elements [from, to) of a vector. */
export function sliceRows(t: Tensor, from: number, to: number): Tensor {
  const cols = t.rank === 2 ? t.shape[1] : 1;
  return deriveTensor(t, t.rank === 2 ? [to - from, cols] : [to - from], (src, out) => out.set(src.subarray(from * cols, to * cols)));
}

/** An nn.Linear stored [out, in] (+ bias) under `name`. */
export function linear(w: WeightLoader, name: string, out: number, inp: number, bias: boolean): Linear {
  return new Linear(
    w.take(`${name}.weight`, [out, inp], { kind: 'uniform', fanIn: inp }),
    bias ? w.take(`${name}.bias`, [out], { kind: 'uniform', fanIn: inp }) : undefined,
  );
}

