/**
 * The architecture description every family is normalised into, and the result of the analysis.
 *
 * A model is a tree of modules. A module holds tensors (with the shape the reference implementation
 * allocates) and child modules; a module may be repeated (layers, experts), with its own weights per
 * instance or one shared set. Attention modules carry what the KV cache and the attention FLOPs need.
 * Every count is a bigint: totals of real models pass 2^53 only for FLOPs, but hostile configs can
 * make any product huge, and bigint keeps every number exact.
 */

/** What a tensor is, for the totals (embeddings), the memory (what gets quantised) and FLOPs. */
export type TensorRole =
  /** Token embedding (the input lookup). */
  | 'embedding'
  /** Learned position embedding. */
  | 'positions'
  /** Segment (token type) embedding. */
  | 'token_types'
  /** Output projection to the vocabulary (LM head / MLM decoder), when it is its own tensor. */
  | 'unembedding'
  /** A weight matrix multiplied with activations. */
  | 'weight'
  | 'bias'
  | 'norm'
  /** A MoE router's weight (or its routing bias). */
  | 'router'
  /** Anything else (T5's relative attention bias table). */
  | 'other';

export interface TensorDef {
  /** Local name inside its module, e.g. `q_proj.weight`. */
  readonly name: string;
  readonly shape: readonly bigint[];
  readonly role: TensorRole;
  /** A matrix that multiplies each token's activations: in and out features (FLOPs, group quantisation). */
  readonly matmul?: { readonly in: bigint; readonly out: bigint };
  /**
   * Shares storage with another parameter (tied embeddings): counted zero times here.
   * The value is the full name of the tensor it is tied to. A tied LM head still costs FLOPs.
   */
  readonly tiedTo?: string;
  /** A parameter that is never trained (Marian's sinusoid tables, frozen nn.Parameters in transformers). */
  readonly frozen?: boolean;
  /** A parameter here, but transformers registers it as a buffer (so `num_parameters()` leaves it out). */
  readonly torchBuffer?: boolean;
  readonly note?: string;
}

/** Which model classes include a module (for base vs. task-head totals). */
export type Only = 'base' | 'task' | 'extra';

/** Where a module's per-token FLOPs are charged in an encoder-decoder (or per sequence: pooler, classifier). */
export type Stream = 'encoder' | 'decoder' | 'sequence';

export type Category =
  'embeddings' | 'attention' | 'mlp' | 'experts' | 'shared_experts' | 'router' | 'norms' | 'head' | 'other';

/** Layer (or expert) indices: a union of arithmetic progressions, so 10^15 layers cost nothing. */
export interface Progression {
  readonly start: bigint;
  readonly step: bigint;
  readonly count: bigint;
}

export interface IndexSet {
  readonly parts: readonly Progression[];
  readonly count: bigint;
}

export interface Repeat {
  readonly count: bigint;
  /** Instances a token passes through (MoE: experts per token); default all. */
  readonly active?: bigint;
  /** Instance indices used in weight names; default 0…count−1. */
  readonly indices?: IndexSet;
  /** Every instance uses one set of weights (counted once, computed every time). */
  readonly shared?: boolean;
}

export interface AttentionDef {
  readonly heads: number;
  /** Key/value heads: = heads (multi-head), 1 (multi-query), between (grouped-query). */
  readonly kvHeads: number;
  readonly qkHeadDim: number;
  readonly vHeadDim: number;
  /** Sliding window: a token attends to at most this many keys (itself included); null = all. */
  readonly window: bigint | null;
  readonly causal: boolean;
  /** Cross-attention (keys and values from the encoder output). */
  readonly cross: boolean;
  /** Multi-head latent attention: what inference engines cache per token is the compressed latent plus the RoPE key. */
  readonly mla?: { readonly kvLoraRank: number; readonly ropeDim: number };
}

export interface ModuleDef {
  /** Weight-name segment (`model`, `layers`, `self_attn`); '' adds no segment. */
  readonly name: string;
  /** What the tree shows; defaults to the name. */
  readonly label?: string;
  readonly category?: Category;
  readonly tensors: readonly TensorDef[];
  readonly children: readonly ModuleDef[];
  readonly repeat?: Repeat;
  readonly only?: Only;
  readonly stream?: Stream;
  readonly attention?: AttentionDef;
  readonly note?: string;
}

export type ArchitectureKind = 'decoder' | 'encoder' | 'encoder-decoder';

/** One family's config, normalised: the module tree plus what the totals and the UI need. */
export interface ArchDesc {
  /** `native`, or the Hugging Face model_type. */
  readonly family: string;
  readonly kind: ArchitectureKind;
  /** The model class counted as the total (from `architectures`, else the family's usual one). */
  readonly modelClass: string;
  /** The class without a task head (`LlamaModel`, `BertModel`). */
  readonly baseClass: string;
  readonly hidden: number;
  readonly vocab: number;
  /** Longest context the config allows (max positions), when it says. */
  readonly maxContext: number | null;
  readonly root: ModuleDef;
  /** Tensors that hold state but are not parameters (final_logits_bias, fixed sinusoid tables). */
  readonly buffers: readonly BufferDef[];
  /** GPTQ/AWQ/fp8 settings read from `quantization_config`. */
  readonly quantization: QuantizationInfo | null;
  /** `torch_dtype` / `dtype` of the checkpoint, when given. */
  readonly storedDtype: string | null;
  readonly notes: readonly string[];
  /** What the `extra` modules are (e.g. DeepSeek-V3's multi-token-prediction module). */
  readonly extraLabel?: string;
}

export interface BufferDef {
  readonly name: string;
  readonly shape: readonly bigint[];
  readonly note: string;
  /** transformers makes it an nn.Parameter (frozen), so `num_parameters()` counts it. */
  readonly countedByTorch?: boolean;
}

export type QuantizationInfo =
  | { readonly method: 'gptq' | 'awq'; readonly bits: number; readonly groupSize: number | null }
  | { readonly method: 'fp8'; readonly blockSize: readonly [number, number] | null };
