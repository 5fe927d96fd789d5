import { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import { CAUSAL, padding, validity, type ModelInput, type TransformerModel } from '../model/transformer';
import type { BlockContext, Stack } from '../nn/block';
import { runTrace, type Step } from './step';

/**
 * Layer replay: one block of a forward pass computed again from its kept input residual
 * (`blocks.{i}.hook_resid_pre`), and for a decoder block of an encoder-decoder model from the kept
 * encoder output, under the mask rules the pass ran with — rebuilt here from the same input by the
 * same functions `TransformerModel.forward` uses (causal, padding from pad_token_id and the attention
 * masks). Same weights, same kernels, same shapes: the replayed steps are bit-identical to the first
 * run's (tests check every hook of every layer). Nothing before the block is recomputed.
 */

/** A block of the pass: its stack's hook prefix ('' for a single stack, 'encoder.' / 'decoder.') and index. */
export interface LayerKey {
  readonly prefix: '' | 'encoder.' | 'decoder.';
  readonly block: number;
}

const LAYER_STEP = /^((?:encoder|decoder)\.)?blocks\.(\d+)\./;

/** The block a step belongs to, from its hook name; undefined for embeddings, ln_final and logits. */
export function layerOf(name: string): LayerKey | undefined {
  const m = LAYER_STEP.exec(name);
  if (!m) return undefined;
  return { prefix: (m[1] ?? '') as LayerKey['prefix'], block: Number(m[2]) };
}

/** `blocks.3`, `decoder.blocks.0`: the hook path of a block. */
export function layerPath(k: LayerKey): string {
  return `${k.prefix}blocks.${k.block}`;
}

/** The name of the input residual a block is replayed from. */
export function residPreName(k: LayerKey): string {
  return `${layerPath(k)}.hook_resid_pre`;
}

export interface LayerReplay {
  /** The model is encoder-decoder: a decoder block also needs the encoder output. */
  readonly crossAttends: boolean;
  /**
   * Every step of one block, in the order the pass fired them (its resid_pre first), computed from
   * `residPre` [B, T, d_model] and, for a decoder block, `memory` (the encoder output [B, S, d_model]);
   * with `count`, only its first `count` steps (the rest of the block is not computed).
   */
  run(layer: LayerKey, residPre: Tensor, memory?: Tensor, count?: number): Step[];
}

/** Replays blocks of `model.forward(input)`: the contexts are built once, from the input the pass ran on. */
export function layerReplay(model: TransformerModel, input: ModelInput): LayerReplay {
  if (input.resume || input.cache)
    throw new InspectorError('a bounded trace replays whole passes: give no resume point or KV cache');
  const spec = model.spec;
  const srcValid = validity(input.ids, spec.padTokenId, input.attentionMask, 'attention mask');
  const stacks = new Map<string, { stack: Stack; ctx: BlockContext }>();
  if (!model.decoder) {
    stacks.set(model.main.stack.prefix, {
      stack: model.main.stack,
      ctx: { selfRules: [...(model.main.causal ? [CAUSAL] : []), ...padding(srcValid)] },
    });
  } else {
    if (!input.decoderIds) throw new InspectorError('an encoder-decoder model needs decoder ids as well');
    const tgtValid = validity(
      input.decoderIds,
      spec.padTokenId,
      input.decoderAttentionMask,
      'decoder attention mask',
    );
    stacks.set(model.main.stack.prefix, { stack: model.main.stack, ctx: { selfRules: padding(srcValid) } });
    stacks.set(model.decoder.stack.prefix, {
      stack: model.decoder.stack,
      ctx: { selfRules: [CAUSAL, ...padding(tgtValid)], crossRules: padding(srcValid) },
    });
  }
  return {
    crossAttends: model.decoder !== undefined,
    run(layer, residPre, memory, count = Infinity) {
      const side = stacks.get(layer.prefix);
      const block = side?.stack.blocks[layer.block];
      if (!side || !block) throw new Error(`layer replay: this model has no block ${layerPath(layer)}`);
      const crossAttends = layer.prefix === 'decoder.';
      if (crossAttends && !memory)
        throw new Error(`layer replay: ${layerPath(layer)} cross-attends and needs the encoder output`);
      // A plain tensor over the kept values: the block reads them and never writes them.
      const x = new Tensor(residPre.shape, residPre.data);
      const ctx: BlockContext = crossAttends
        ? { ...side.ctx, memory: new Tensor(memory!.shape, memory!.data) }
        : side.ctx;
      if (count === Infinity) return runTrace(block.forward(x, ctx)).steps;
      const steps: Step[] = [];
      const trace = block.forward(x, ctx);
      while (steps.length < count) {
        const r = trace.next();
        if (r.done) break;
        steps.push(r.value);
      }
      trace.return(x);
      return steps;
    },
  };
}
