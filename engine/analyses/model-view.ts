import { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import { activateInto } from '../kernels/ops';
import { Linear } from '../nn/linear';
import type { Block, Stack, Sublayer } from '../nn/block';
import type { Side, TransformerModel } from '../model/transformer';

/**
 * What the analyses read off a built model: the stack whose residual stream becomes the logits (the decoder
 * of an encoder-decoder model, else the only stack), where its residual is recorded before and after each
 * block, and the readout (final norm → head → vocabulary) applied to any residual, untraced.
 */
export interface ReadoutSide {
  side: Side;
  stack: Stack;
  blocks: readonly Block[];
}

export function readoutSide(model: TransformerModel): ReadoutSide {
  const side = model.decoder ?? model.main;
  return { side, stack: side.stack, blocks: side.stack.blocks };
}

/** The residual entering block i (i = 0: the embeddings). */
export function residPreHook(block: Block): string {
  return `${block.path}.hook_resid_pre`;
}

/**
 * The residual a block hands on: `hook_resid_post` in a pre-norm block; in a post-norm block the stream
 * carried between blocks is the last norm's output, `ln{n}.hook_normalized`.
 */
export function blockOutputHook(block: Block): string {
  return block.placement === 'pre' ? `${block.path}.hook_resid_post` : `${block.path}.ln${block.sublayers.length}.hook_normalized`;
}

/**
 * The residual stream at every depth: the embeddings (block 0's resid_pre), then each block's output.
 * One more entry than there are blocks.
 */
export function residualHooks(model: TransformerModel): string[] {
  const { blocks } = readoutSide(model);
  if (blocks.length === 0) throw new InspectorError('this model has no blocks');
  return [residPreHook(blocks[0]), ...blocks.map(blockOutputHook)];
}

/**
 * The readout the forward pass applies after the last block, applied to any residual [B, T, d_model]:
 * the final norm (its statistics computed from this residual), the head transform (BERT's MLM dense →
 * activation → norm), the unembedding and the logits bias. The same operations in the same order as
 * `TransformerModel.forward`, so the last block's output gives the model's logits bit for bit.
 */
export function readout(model: TransformerModel, resid: Tensor): Tensor {
  const { stack } = readoutSide(model);
  let x = stack.finalNorm ? stack.finalNorm.forward(resid) : resid;
  const t = model.headExtras.transform;
  if (t) {
    const d = t.dense.forward(x);
    activateInto(d.data, d.data, t.act);
    x = t.norm.forward(d);
  }
  const logits = model.lmHead.forward(x);
  const bias = model.headExtras.logitsBias;
  if (bias) {
    const V = bias.size;
    for (let i = 0; i < logits.size; i++) logits.data[i] += bias.data[i % V];
  }
  return logits;
}

/** The attention sublayer of a block that reads the block's own stream (self-attention). */
export function selfAttention(block: Block): (Sublayer & { kind: 'attn' }) | undefined {
  return block.sublayers.find((s): s is Sublayer & { kind: 'attn' } => s.kind === 'attn');
}

/** An attention module whose heads are merged by one output projection (multi-head, GQA, MLA). */
export function outputProjection(s: Sublayer): Linear | undefined {
  if (s.kind === 'mlp') return undefined;
  const out = (s.attn as unknown as { out?: unknown }).out;
  return out instanceof Linear ? out : undefined;
}

/** Hook names of one block, by what they hold. */
export function blockHooks(block: Block): { z: string[]; attnOut: string[]; mlpOut: string[]; pattern?: string } {
  const z: string[] = [];
  const attnOut: string[] = [];
  const mlpOut: string[] = [];
  for (const s of block.sublayers) {
    if (s.kind === 'mlp') mlpOut.push(`${block.path}.hook_mlp_out`);
    else {
      z.push(`${s.attn.path}.hook_z`);
      attnOut.push(`${block.path}.${s.kind === 'attn' ? 'hook_attn_out' : 'hook_cross_attn_out'}`);
    }
  }
  const attn = selfAttention(block);
  return { z, attnOut, mlpOut, pattern: attn ? `${attn.attn.path}.hook_pattern` : undefined };
}

/** Check a layer index against the readout stack. */
export function checkLayer(model: TransformerModel, layer: number, what: string): Block {
  const { blocks } = readoutSide(model);
  if (!Number.isInteger(layer) || layer < 0 || layer >= blocks.length) {
    throw new InspectorError(`${what}: layer ${layer} does not exist (the model has layers 0 … ${blocks.length - 1})`);
  }
  return blocks[layer];
}
