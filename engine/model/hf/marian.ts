import { InspectorError } from '../../errors';
import type { BartConfig } from '../../config/hf/bart';
import { Embedding } from '../../nn/embedding';
import { Linear } from '../../nn/linear';
import { LayerNorm, type NormSpec } from '../../nn/norm';
import { MultiHeadAttention } from '../../nn/attention';
import { FeedForward } from '../../nn/ffn';
import { Block, Stack, type Sublayer } from '../../nn/block';
import { sinusoidalTable } from '../../nn/positional';
import type { ModelSpec } from '../spec';
import type { TransformerModel } from '../transformer';
import { WeightLoader, type WeightSource } from '../weights';
import { linear, HF_ACTIVATIONS, HF_SPEC_DEFAULTS, assemble } from './common';

/**
 * Marian (MarianMTModel): a post-norm encoder-decoder like the 2017 paper, with sinusoidal positions in
 * Marian's layout (sin of every frequency in the first half of the dims, cos in the second), embeddings
 * × √d_model when scale_embedding, shared source/target embeddings, swish activation, no final norms,
 * and `final_logits_bias` (a buffer) added to the logits.
 */
/** The run spec of a resolved Marian config; refuses what the engine does not run, naming the key. */
export function marianRunSpec(m: BartConfig): ModelSpec {
  const fail = (key: string, message: string): never => {
    throw new InspectorError(message, { file: m.file, key });
  };
  if (m.modelClass !== m.taskClass) fail('architectures', `${m.modelClass} is analysed, not run (the engine runs MarianMTModel)`);
  if (!m.share) fail('share_encoder_decoder_embeddings', 'separate encoder and decoder embeddings are not supported');
  if (m.decoder.heads !== m.encoder.heads) fail('decoder_attention_heads', 'different encoder and decoder head counts are not supported');
  if (m.decoder.ff !== m.encoder.ff) fail('decoder_ffn_dim', 'different encoder and decoder FFN widths are not supported');
  const act = m.activation.fn ?? fail('activation_function', `activation "${m.activation.name}" is not supported (known: ${Object.keys(HF_ACTIVATIONS).join(', ')})`);
  return {
    ...HF_SPEC_DEFAULTS,
    family: 'marian',
    architecture: 'encoder-decoder',
    vocabSize: m.vocab,
    tgtVocabSize: m.vocab,
    dModel: m.hidden,
    numHeads: m.encoder.heads,
    kvHeads: m.encoder.heads,
    headDim: m.encoder.headDim,
    ffn: 'mlp',
    dFF: m.encoder.ff,
    numLayers: m.encoder.layers,
    numDecoderLayers: m.decoder.layers,
    maxLen: m.maxPos,
    placement: 'post',
    norm: { kind: 'layernorm', eps: 1e-5, bias: true },
    activation: act,
    positional: { kind: 'sinusoidal', layout: 'half' },
    finalNorm: false,
    scaleEmbedding: m.scaleEmbedding,
    tieEmbeddings: m.tie,
    shareEmbeddings: true,
    outputBias: false,
  };
}

/** Weights by Marian's names (model.shared, fairseq layer names), with the tables it computes when absent. */
export function buildMarian(spec: ModelSpec, source?: WeightSource): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const d = spec.dModel;
  const normSpec = spec.norm as NormSpec & { kind: 'layernorm' };
  const ln = (name: string) =>
    new LayerNorm(
      normSpec,
      w.take(`${name}.weight`, [d], { kind: 'ones' }),
      w.take(`${name}.bias`, [d], { kind: 'zeros' }),
    );
  const attn = (hp: string, wp: string) =>
    new MultiHeadAttention(
      hp,
      spec.numHeads,
      linear(w, `${wp}.q_proj`, d, d, true),
      linear(w, `${wp}.k_proj`, d, d, true),
      linear(w, `${wp}.v_proj`, d, d, true),
      linear(w, `${wp}.out_proj`, d, d, true),
    );
  const mlp = (hp: string, wp: string) =>
    new FeedForward(
      hp,
      linear(w, `${wp}.fc1`, spec.dFF, d, true),
      linear(w, `${wp}.fc2`, d, spec.dFF, true),
      spec.activation,
    );
  const stack = (side: 'encoder' | 'decoder', layers: number) => {
    const blocks: Block[] = [];
    for (let i = 0; i < layers; i++) {
      const wp = `model.${side}.layers.${i}`;
      const hp = `${side}.blocks.${i}`;
      const subs: Sublayer[] = [
        { kind: 'attn', attn: attn(`${hp}.attn`, `${wp}.self_attn`), norm: ln(`${wp}.self_attn_layer_norm`) },
      ];
      if (side === 'decoder')
        subs.push({
          kind: 'cross_attn',
          attn: attn(`${hp}.cross_attn`, `${wp}.encoder_attn`),
          norm: ln(`${wp}.encoder_attn_layer_norm`),
        });
      subs.push({ kind: 'mlp', ffn: mlp(`${hp}.mlp`, wp), norm: ln(`${wp}.final_layer_norm`) });
      blocks.push(new Block(hp, subs, 'post'));
    }
    return new Stack(`${side}.`, blocks);
  };
  const shared = w.take('model.shared.weight', [spec.vocabSize, d], { kind: 'embedding' });
  for (const copy of ['model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight']) {
    w.acknowledgeCopy(copy, shared, 'Marian shares one embedding, model.shared, between encoder and decoder');
  }
  // tie_word_embeddings (the default): the output projection is model.shared too; else its own lm_head.
  const head = spec.tieEmbeddings ? new Linear(shared) : linear(w, 'lm_head', spec.vocabSize, d, false);
  if (spec.tieEmbeddings) w.acknowledgeCopy('lm_head.weight', shared, 'Marian ties its output projection to model.shared');
  // Marian keeps its sinusoidal tables as frozen nn.Embedding weights (Parameters with requires_grad
  // False, counted by num_parameters()): they are taken as parameters and must hold the formula's values.
  const table = sinusoidalTable(spec.maxLen, d, 'half');
  // save_pretrained leaves them out (_keys_to_ignore_on_save): computed when absent.
  const positions = (side: string) => ({
    kind: 'table' as const,
    table: w.takeComputed(`model.${side}.embed_positions.weight`, table, 1e-5, "Marian's positions are the sinusoidal formula"),
  });
  const scale = spec.scaleEmbedding ? Math.sqrt(d) : 1;
  const embedder = (what: string, side: string) => ({
    token: new Embedding(shared, scale, what),
    positions: positions(side),
  });
  // A buffer of zeros in a fresh model; absent, it is those zeros.
  const logitsBias = source?.shapeOf('final_logits_bias') ? source.read('final_logits_bias') : undefined;
  w.buffer('final_logits_bias');
  return assemble(
    spec,
    w,
    source,
    { embed: embedder('input ids', 'encoder'), stack: stack('encoder', spec.numLayers), causal: false },
    {
      embed: embedder('decoder ids', 'decoder'),
      stack: stack('decoder', spec.numDecoderLayers),
      causal: true,
    },
    head,
    { logitsBias },
  );
}
