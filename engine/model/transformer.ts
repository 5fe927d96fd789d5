import { Tensor, sameShape, shapeToString } from '../tensor';
import { InspectorError } from '../errors';
import { Embedding } from '../nn/embedding';
import { Linear, add } from '../nn/linear';
import { positionRows } from '../nn/positional';
import type { MaskRule } from '../nn/mask';
import type { Stack } from '../nn/block';
import type { Norm } from '../nn/norm';
import type { Activation } from '../kernels/ops';
import { rowKernels } from '../kernels';
import { hook, type Trace } from '../trace/step';
import type { ModelSpec } from './spec';
import type { KVCache } from '../nn/kvcache';

/** What a forward pass takes. Ids are [batch][position]. */
export interface ModelInput {
  ids: number[][];
  /** Decoder input of an encoder-decoder model. */
  decoderIds?: number[][];
  /** Segment ids (BERT); zeros when absent. */
  tokenTypeIds?: number[][];
  /** 1 = real token, 0 = padding (keys that no query may attend to). */
  attentionMask?: number[][];
  decoderAttentionMask?: number[][];
  /**
   * Resume a decoder-only or encoder-only pass at block `layer` with this `blocks.{layer}.hook_resid_pre`
   * [B, T, d_model] (from an earlier run of the same ids): the embeddings and earlier blocks are skipped.
   */
  resume?: { layer: number; residPre: Tensor };
  /**
   * Decoding with a KV cache (decoder-only models): `ids` are the new positions only; the cache holds
   * the keys and values of the earlier ones and advances by ids' length when the forward returns.
   */
  cache?: KVCache;
}

/** Token embedding plus positions, for one side of the model. */
export interface Embedder {
  readonly token: Embedding;
  /** A fixed table [max_len, d] (sinusoidal) or a learned one (an Embedding over positions). */
  readonly positions?:
    | { kind: 'table'; table: Tensor; /** Builds a longer table when an input outgrows the precomputed rows. */ extend?: (rows: number) => Tensor }
    | { kind: 'learned'; embedding: Embedding };
  /** Segment (token type) embeddings, BERT. */
  readonly tokenTypes?: Embedding;
  /** A norm over the summed embeddings (BERT's embeddings.LayerNorm): hook `ln_embed.hook_normalized`. */
  readonly norm?: Norm;
}

/**
 * What sits between the last hidden state and the logits besides the vocabulary projection:
 * BERT's MLM transform (dense → activation → LayerNorm) and Marian's final_logits_bias (a buffer).
 */
export interface HeadExtras {
  transform?: { dense: Linear; act: Activation; norm: Norm };
  /** Added to the logits; a buffer, not a parameter. */
  logitsBias?: Tensor;
}

export interface Side {
  readonly embed: Embedder;
  readonly stack: Stack;
  /** Self-attention is causal (decoder side). */
  readonly causal: boolean;
}

export class TransformerModel {
  constructor(
    readonly spec: ModelSpec,
    /** The encoder of encoder/encoder-decoder models, or the single stack of a decoder-only model. */
    readonly main: Side,
    /** The decoder of an encoder-decoder model. */
    readonly decoder: Side | undefined,
    readonly lmHead: Linear,
    /** Every parameter by its weight name (tied tensors appear once). */
    readonly parameters: ReadonlyMap<string, Tensor>,
    /** Tensors present in the weights file but not used (empty for seeded weights). */
    readonly unusedWeights: readonly string[],
    readonly weightsDescription: string,
    readonly seeded: boolean,
    readonly headExtras: HeadExtras = {},
    /** Buffers and formula tables the weights file left out, computed by the engine (empty for seeded weights). */
    readonly computedBuffers: readonly string[] = [],
  ) {}

  private *logits(h: Tensor): Trace {
    let x = h;
    const t = this.headExtras.transform;
    if (t) {
      const d = t.dense.forward(x);
      rowKernels().activateInto(d.data, d.data, t.act);
      x = t.norm.forward(d);
    }
    const logits = this.lmHead.forward(x);
    const bias = this.headExtras.logitsBias;
    if (bias) {
      const V = bias.size;
      for (let i = 0; i < logits.size; i++) logits.data[i] += bias.data[i % V];
    }
    return yield* hook('logits', logits);
  }

  /** Number of parameters, each tied or shared tensor counted once. */
  parameterCount(): number {
    let n = 0;
    for (const t of this.parameters.values()) n += t.size;
    return n;
  }

  *forward(input: ModelInput): Trace {
    const spec = this.spec;
    checkIds(input.ids, spec.maxLen, 'input ids');
    const srcValid = validity(input.ids, spec.padTokenId, input.attentionMask, 'attention mask');
    if (!this.decoder) {
      const selfRules: MaskRule[] = [...(this.main.causal ? [CAUSAL] : []), ...padding(srcValid)];
      const r = input.resume;
      if (r) checkResume(r, this.main.stack.blocks.length, input.ids, spec.dModel);
      const cache = input.cache;
      if (cache) {
        if (r) throw new InspectorError('a pass resumed at a block takes no KV cache');
        if (!this.main.causal) throw new InspectorError('a KV cache is for decoding: this model is an encoder');
        if (srcValid) throw new InspectorError('decoding with a KV cache takes no padding or attention mask');
        checkIds(input.ids, spec.maxLen - cache.length, `input ids after ${cache.length} cached positions`);
      }
      const x = r ? r.residPre : yield* embed(this.main.embed, '', input.ids, input.tokenTypeIds, cache?.length ?? 0);
      const h = yield* this.main.stack.forward(x, { selfRules, cache }, r?.layer ?? 0);
      const logits = yield* this.logits(h);
      if (cache) cache.length += input.ids[0].length;
      return logits;
    }
    if (input.resume) throw new InspectorError('resuming a pass at a block is for single-stack models; an encoder-decoder model reruns whole');
    if (input.cache) throw new InspectorError('decoding with a KV cache is implemented for decoder-only models');
    if (!input.decoderIds) throw new InspectorError('an encoder-decoder model needs decoder ids as well');
    checkIds(input.decoderIds, spec.maxLen, 'decoder ids');
    if (input.decoderIds.length !== input.ids.length) {
      throw new InspectorError(`decoder ids have batch ${input.decoderIds.length} but input ids have ${input.ids.length}`);
    }
    const tgtValid = validity(input.decoderIds, spec.padTokenId, input.decoderAttentionMask, 'decoder attention mask');
    const x = yield* embed(this.main.embed, 'encoder.', input.ids);
    const memory = yield* this.main.stack.forward(x, { selfRules: padding(srcValid) });
    const y = yield* embed(this.decoder.embed, 'decoder.', input.decoderIds);
    const h = yield* this.decoder.stack.forward(y, {
      selfRules: [CAUSAL, ...padding(tgtValid)],
      memory,
      crossRules: padding(srcValid),
    });
    return yield* this.logits(h);
  }
}

/** The rules a layer replay (engine/trace/replay.ts) rebuilds exactly as forward builds them. */
export const CAUSAL: MaskRule = { kind: 'causal' };

export function padding(valid: number[][] | undefined): MaskRule[] {
  return valid ? [{ kind: 'padding', valid }] : [];
}

/** Embeddings of ids at positions start … start + T − 1 (start > 0 when earlier positions are cached). */
function* embed(e: Embedder, prefix: string, ids: number[][], tokenTypeIds?: number[][], start = 0): Trace {
  let x = yield* hook(`${prefix}hook_embed`, e.token.forward(ids));
  const B = ids.length;
  const T = ids[0].length;
  if (e.positions) {
    const p = e.positions;
    const pos =
      p.kind === 'table'
        ? positionRows(start + T > p.table.shape[0] && p.extend ? p.extend(start + T) : p.table, B, T, start)
        : p.embedding.forward(ids.map(() => Array.from({ length: T }, (_, t) => start + t)));
    x = add(x, yield* hook(`${prefix}hook_pos_embed`, pos));
  }
  if (e.tokenTypes) {
    if (tokenTypeIds && (tokenTypeIds.length !== B || tokenTypeIds.some((r) => r.length !== T))) {
      throw new InspectorError(`token type ids: shape must match the input ids (${B} × ${T})`);
    }
    const types = tokenTypeIds ?? ids.map((r) => r.map(() => 0));
    x = add(x, yield* hook(`${prefix}hook_token_type_embed`, e.tokenTypes.forward(types)));
  } else if (tokenTypeIds) {
    throw new InspectorError('this model has no token type embeddings: drop the token type ids');
  }
  if (e.norm) x = yield* hook(`${prefix}ln_embed.hook_normalized`, e.norm.forward(x));
  return x;
}

function checkResume(r: { layer: number; residPre: Tensor }, blocks: number, ids: number[][], d: number): void {
  if (!Number.isInteger(r.layer) || r.layer < 0 || r.layer > blocks) throw new InspectorError(`resume: layer ${r.layer} is not a block (0 … ${blocks})`);
  const want = [ids.length, ids[0].length, d];
  if (!sameShape(r.residPre.shape, want)) {
    throw new InspectorError(`resume: the residual stream must be ${shapeToString(want)}, not ${shapeToString(r.residPre.shape)}`);
  }
}

function checkIds(ids: number[][], maxLen: number, what: string): void {
  if (!Array.isArray(ids) || ids.length === 0 || !Array.isArray(ids[0]) || ids[0].length === 0) {
    throw new InspectorError(`${what}: give at least one token`);
  }
  const T = ids[0].length;
  if (T > maxLen) throw new InspectorError(`${what}: sequence of ${T} tokens is longer than the model's max_len (${maxLen})`);
}

/** Which keys are real tokens: from pad_token_id and/or an explicit mask; undefined when all are. */
export function validity(
  ids: number[][],
  padTokenId: number | null,
  mask: number[][] | undefined,
  what: string,
): number[][] | undefined {
  if (mask) {
    if (mask.length !== ids.length || mask.some((row, b) => row.length !== ids[b].length)) {
      throw new InspectorError(`${what}: shape must match the ids (${ids.length} × ${ids[0].length})`);
    }
  }
  if (padTokenId === null && !mask) return undefined;
  const valid = ids.map((row, b) => row.map((id, t) => (padTokenId !== null && id === padTokenId ? 0 : 1) & (mask ? (mask[b][t] ? 1 : 0) : 1)));
  return valid.every((row) => row.every((v) => v === 1)) ? undefined : valid;
}

