import type { NormSpec } from '../nn/norm';
import type { NormPlacement } from '../nn/block';
import type { Activation } from '../kernels/ops';
import type { SinusoidalLayout } from '../nn/positional';
import type { RopeLayout } from '../nn/rope';
import type { AttentionImpl } from '../nn/attention';
import type { MaskRule } from '../nn/mask';

export type Architecture = 'encoder' | 'decoder' | 'encoder-decoder';

export type PositionalSpec =
  | { kind: 'sinusoidal'; layout: SinusoidalLayout }
  | { kind: 'learned' }
  /** Rotary: applied to q and k inside attention, nothing is added to the embeddings. */
  | { kind: 'rotary'; layout: RopeLayout; theta: number; partialFactor: number }
  | { kind: 'none' };

export type FfnKind = 'mlp' | 'swiglu' | 'geglu' | 'glu';

export type AttentionKind =
  /** Multi-head, grouped-query or multi-query attention (by kvHeads). */
  | { kind: 'standard' }
  /**
   * Perceiver-style latent bottleneck (Jaegle et al. 2021), which some tutorials call "multi-head latent
   * attention": m learned latent tokens attend to the input, then the input attends to the latents —
   * O(n·m) instead of O(n²). Not DeepSeek's multi-head latent attention (MLA), which compresses K/V.
   */
  | { kind: 'latent_bottleneck'; numLatents: number };

/**
 * Everything needed to build a model, resolved from a config file: tagged unions, no raw JSON.
 * Sizes follow the tutorial's names (d_model, num_heads, d_ff).
 */
export interface ModelSpec {
  /** `native` for *.transformer.json, else the Hugging Face model_type. */
  readonly family: string;
  readonly architecture: Architecture;
  readonly vocabSize: number;
  /** Decoder-side vocabulary of an encoder-decoder model (= vocabSize unless set). */
  readonly tgtVocabSize: number;
  readonly dModel: number;
  readonly numHeads: number;
  /** Key/value heads: = numHeads (multi-head), 1 (multi-query), a divisor (grouped-query). */
  readonly kvHeads: number;
  readonly headDim: number;
  readonly attention: AttentionKind;
  readonly attentionImpl: AttentionImpl;
  /** Extra self-attention mask rules of every layer (sliding window, chunked, strided, custom). */
  readonly maskRules: readonly MaskRule[];
  readonly ffn: FfnKind;
  readonly dFF: number;
  /** Encoder layers (or the layers of a decoder-only model). */
  readonly numLayers: number;
  /** Decoder layers of an encoder-decoder model. */
  readonly numDecoderLayers: number;
  readonly maxLen: number;
  /** Kept from the config; inference always runs with dropout off. */
  readonly dropout: number;
  readonly placement: NormPlacement;
  readonly norm: NormSpec;
  readonly activation: Activation;
  readonly positional: PositionalSpec;
  readonly finalNorm: boolean;
  /** Multiply token embeddings by √d_model (the 2017 paper); the tutorial does not. */
  readonly scaleEmbedding: boolean;
  /** Ids equal to this are padding: masked out as keys. */
  readonly padTokenId: number | null;
  /** The output projection reuses the (decoder) token embedding matrix. */
  readonly tieEmbeddings: boolean;
  /** Encoder and decoder share one token embedding (encoder-decoder only). */
  readonly shareEmbeddings: boolean;
  readonly outputBias: boolean;
  /**
   * All layers of a stack use one set of weights: what the tutorial's
   * `nn.ModuleList([layer for _ in range(N)])` builds (by accident).
   */
  readonly sharedLayers: boolean;
  /** Seed for deterministic random weights when no weights file is present. */
  readonly seed: number;
}

/**
 * The activation a gated FFN applies to its gate: fixed by the kind in a native config (SwiGLU: SiLU,
 * GeGLU: exact GELU, GLU: sigmoid), the config's own for a Hugging Face family (Gemma's GeGLU uses the
 * tanh GELU). For a plain MLP, its activation.
 */
export function gateActivation(spec: Pick<ModelSpec, 'family' | 'ffn' | 'activation'>): Activation {
  if (spec.ffn === 'mlp' || spec.family !== 'native') return spec.activation;
  return spec.ffn === 'swiglu' ? 'silu' : spec.ffn === 'geglu' ? 'gelu' : 'sigmoid';
}
