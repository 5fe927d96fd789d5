import { InspectorError } from '../errors';
import { Tensor } from '../tensor';
import { Embedding } from '../nn/embedding';
import { Linear } from '../nn/linear';
import { makeNorm, normParamShapes, type Norm } from '../nn/norm';
import { MultiHeadAttention } from '../nn/attention';
import { FeedForward, GatedFeedForward } from '../nn/ffn';
import { LatentBottleneckAttention } from '../nn/latent';
import { Block, Stack, type AttentionModule, type FeedForwardModule, type Sublayer } from '../nn/block';
import type { RopeSpec } from '../nn/rope';
import { sinusoidalTable, SINUSOIDAL_ROWS } from '../nn/positional';
import { gateActivation, type ModelSpec } from './spec';
import { TransformerModel, type Embedder, type Side } from './transformer';
import { WeightLoader, type WeightSource } from './weights';

/**
 * Builds a native (*.transformer.json) model. Weight names are the tutorial's PyTorch module names,
 * so `torch.save`/`safetensors.save_file(model.state_dict())` of the tutorial model loads as is:
 *
 *   embedding.weight                                     (encoder-only and decoder-only)
 *   src_embedding.weight, tgt_embedding.weight           (encoder-decoder)
 *   pos_embedding.weight | src_/tgt_pos_embedding.weight (learned positions only)
 *   {encoder|decoder}.layers.{i}.attn.linear_{q,k,v,out}.{weight,bias}
 *   decoder.layers.{i}.cross_attn.linear_{q,k,v,out}.{weight,bias}   (encoder-decoder)
 *   {encoder|decoder}.layers.{i}.addnorm{1,2[,3]}.norm.{weight,bias}
 *   {encoder|decoder}.layers.{i}.ffn.linear{1,2}.{weight,bias}   (+ ffn.linear_gate for gated FFNs:
 *                                                        linear1 = up, linear2 = down)
 *   encoder.layers.{i}.attn.latents, attn.to_latents.linear_*, attn.from_latents.linear_*  (latent bottleneck)
 *   {encoder|decoder}.norm.{weight,bias}
 *   fc_out.{weight,bias}
 */
export function buildNativeModel(spec: ModelSpec, source?: WeightSource): TransformerModel {
  const w = new WeightLoader(source, spec.seed);
  const d = spec.dModel;

  const linear = (name: string, out: number, inp: number, bias = true): Linear =>
    new Linear(
      w.take(`${name}.weight`, [out, inp], { kind: 'uniform', fanIn: inp }),
      bias ? w.take(`${name}.bias`, [out], { kind: 'uniform', fanIn: inp }) : undefined,
    );
  const norm = (name: string): Norm => {
    const shapes = normParamShapes(spec.norm, d);
    return makeNorm(
      spec.norm,
      // ScaleNorm's g starts at √d (Nguyen & Salazar), the others' gains at 1.
      w.take(`${name}.weight`, shapes.weight, spec.norm.kind === 'scalenorm' ? { kind: 'constant', value: Math.sqrt(d) } : { kind: 'ones' }),
      shapes.bias && w.take(`${name}.bias`, shapes.bias, { kind: 'zeros' }),
    );
  };
  const kvWidth = spec.kvHeads * spec.headDim;
  const rope: RopeSpec | undefined =
    spec.positional.kind === 'rotary'
      ? { layout: spec.positional.layout, theta: spec.positional.theta, rotaryDim: Math.round(spec.headDim * spec.positional.partialFactor) }
      : undefined;
  const mha = (hookPath: string, name: string, self: boolean): MultiHeadAttention =>
    new MultiHeadAttention(
      hookPath,
      spec.numHeads,
      linear(`${name}.linear_q`, d, d),
      linear(`${name}.linear_k`, kvWidth, d),
      linear(`${name}.linear_v`, kvWidth, d),
      linear(`${name}.linear_out`, d, d),
      { kvHeads: spec.kvHeads, rope: self ? rope : undefined, impl: spec.attentionImpl },
    );
  const attention = (hookPath: string, name: string, self: boolean): AttentionModule => {
    if (spec.attention.kind === 'latent_bottleneck') {
      const latents = w.take(`${name}.latents`, [spec.attention.numLatents, d], { kind: 'embedding' });
      return new LatentBottleneckAttention(hookPath, latents, mha(`${hookPath}.to_latents`, `${name}.to_latents`, false), mha(`${hookPath}.from_latents`, `${name}.from_latents`, false));
    }
    return mha(hookPath, name, self);
  };
  const ffn = (hookPath: string, name: string): FeedForwardModule => {
    const up = linear(`${name}.linear1`, spec.dFF, d);
    const down = linear(`${name}.linear2`, d, spec.dFF);
    if (spec.ffn === 'mlp') return new FeedForward(hookPath, up, down, spec.activation);
    const act = gateActivation(spec);
    return new GatedFeedForward(hookPath, linear(`${name}.linear_gate`, spec.dFF, d), up, down, act);
  };

  const stack = (side: 'encoder' | 'decoder', hookPrefix: string, layers: number, cross: boolean): Stack => {
    const blocks: Block[] = [];
    for (let i = 0; i < layers; i++) {
      // With shared layers every block is built from layer 0's tensors (one Tensor per name).
      const li = spec.sharedLayers ? 0 : i;
      const wp = `${side}.layers.${li}`;
      const hp = `${hookPrefix}blocks.${i}`;
      const subs: Sublayer[] = [{ kind: 'attn', attn: attention(`${hp}.attn`, `${wp}.attn`, true), norm: norm(`${wp}.addnorm1.norm`) }];
      if (cross) subs.push({ kind: 'cross_attn', attn: mha(`${hp}.cross_attn`, `${wp}.cross_attn`, false), norm: norm(`${wp}.addnorm2.norm`) });
      subs.push({ kind: 'mlp', ffn: ffn(`${hp}.mlp`, `${wp}.ffn`), norm: norm(`${wp}.addnorm${cross ? 3 : 2}.norm`) });
      blocks.push(new Block(hp, subs, spec.placement, spec.maskRules));
    }
    if (spec.sharedLayers) acknowledgeSharedCopies(w, side, layers);
    return new Stack(hookPrefix, blocks, spec.finalNorm ? norm(`${side}.norm`) : undefined);
  };

  const table = spec.positional.kind === 'sinusoidal' ? sinusoidalTable(Math.min(spec.maxLen, SINUSOIDAL_ROWS), d, spec.positional.layout) : undefined;
  // The tutorial registers its table as a buffer, so state_dict() carries it: check it, don't load it.
  if (table && spec.positional.kind === 'sinusoidal') {
    const layout = spec.positional.layout;
    for (const name of ['pos_encoding.pe', 'src_pos_encoding.pe', 'tgt_pos_encoding.pe']) {
      if (!w.has(name)) continue;
      // A stored table of the wrong shape is named before the formula is evaluated for max_len rows.
      const stored = w.source?.shapeOf(name) ?? [];
      const rows = stored.length >= 2 && stored.slice(0, -2).every((x) => x === 1) ? stored[stored.length - 2] : -1;
      if (rows !== spec.maxLen || stored[stored.length - 1] !== d) {
        throw new InspectorError(`the stored sinusoidal table has shape [${stored.join(', ')}] but max_len × d_model is [${spec.maxLen}, ${d}]`, { file: w.source?.fileOf(name), tensor: name });
      }
      const full = spec.maxLen > SINUSOIDAL_ROWS ? sinusoidalTable(spec.maxLen, d, layout) : table;
      w.acknowledgeClose(name, full, 1e-5, 'the sinusoidal table is recomputed from the formula');
    }
  }
  const embedder = (tokenName: string, posName: string, vocab: number, what: string): Embedder => {
    const scale = spec.scaleEmbedding ? Math.sqrt(d) : 1;
    const token = new Embedding(w.take(tokenName, [vocab, d], { kind: 'embedding' }), scale, what);
    if (table && spec.positional.kind === 'sinusoidal') {
      const layout = spec.positional.layout;
      return { token, positions: { kind: 'table', table, extend: (rows: number) => sinusoidalTable(rows, d, layout) } };
    }
    if (spec.positional.kind === 'learned') {
      const pe = new Embedding(w.take(posName, [spec.maxLen, d], { kind: 'embedding' }), 1, 'positions');
      return { token, positions: { kind: 'learned', embedding: pe } };
    }
    return { token };
  };

  let main: Side;
  let decoder: Side | undefined;
  let outEmbedding: Tensor;
  if (spec.architecture === 'encoder-decoder') {
    const src = embedder('src_embedding.weight', 'src_pos_embedding.weight', spec.vocabSize, 'input ids');
    main = { embed: src, stack: stack('encoder', 'encoder.', spec.numLayers, false), causal: false };
    const tgtName = spec.shareEmbeddings ? 'src_embedding.weight' : 'tgt_embedding.weight';
    const tgt = embedder(tgtName, 'tgt_pos_embedding.weight', spec.tgtVocabSize, 'decoder ids');
    decoder = { embed: tgt, stack: stack('decoder', 'decoder.', spec.numDecoderLayers, true), causal: true };
    outEmbedding = tgt.token.weight;
  } else {
    const side = spec.architecture === 'encoder' ? 'encoder' : 'decoder';
    const e = embedder('embedding.weight', 'pos_embedding.weight', spec.vocabSize, 'input ids');
    main = { embed: e, stack: stack(side, '', spec.numLayers, false), causal: spec.architecture === 'decoder' };
    outEmbedding = e.token.weight;
  }
  const V = spec.tgtVocabSize;
  const lmHead = spec.tieEmbeddings
    ? new Linear(outEmbedding, spec.outputBias ? w.take('fc_out.bias', [V], { kind: 'uniform', fanIn: d }) : undefined)
    : linear('fc_out', V, d, spec.outputBias);

  return new TransformerModel(spec, main, decoder, lmHead, w.parameters(), w.unused(), source?.description ?? `seeded random weights (seed ${spec.seed})`, !source);
}

/**
 * The tutorial's `nn.ModuleList([layer for _ in range(N)])` puts one module in every slot, so its
 * state_dict repeats layer 0's tensors under every index. With `shared_layers` those copies are
 * checked to be identical and accounted for, not loaded as parameters.
 */
function acknowledgeSharedCopies(w: WeightLoader, side: string, layers: number): void {
  const params = w.parameters();
  const prefix = `${side}.layers.0.`;
  for (const [name, t] of params) {
    if (!name.startsWith(prefix)) continue;
    for (let i = 1; i < layers; i++) {
      w.acknowledgeCopy(`${side}.layers.${i}.${name.slice(prefix.length)}`, t, 'shared_layers is true');
    }
  }
}
