/**
 * The messages of the interpretability analyses (engine/analyses) that cross to the host and the
 * webview: requests, and views already reduced to what they draw. Imports nothing of engine, src or webview.
 */

export interface AttributionComponent {
  /** Hook-style name, e.g. `hook_embed`, `blocks.2.attn.head.1`, `blocks.2.hook_mlp_out`. */
  name: string;
  kind: 'embed' | 'head' | 'attn' | 'mlp';
  layer?: number;
  head?: number;
  /** For attention parts: self-attention, or an encoder-decoder model's cross-attention. */
  attention?: 'self' | 'cross';
  value: number;
}

export interface HeadScores {
  previous_token: number[][];
  duplicate_token: number[][];
  induction: number[][];
}

export interface TokenProb {
  id: number;
  prob: number;
}

export type PatchWhat = 'resid' | 'heads' | 'mlp';

export interface Window {
  row0: number;
  row1: number;
  col0: number;
  col1: number;
}

/**
 * What the engine worker sends a view per analysis: already reduced to what the view draws (top-k per
 * cell, tables of scores, rollout tiles no bigger than the cells on screen), with the labels of every id it
 * mentions. Big arrays are typed arrays, transferred, not copied.
 */
export type AnalysisRequest =
  | { analysis: 'lens'; top?: number; target?: number }
  | { analysis: 'attribution'; target: number; versus?: number; position?: number }
  | { analysis: 'heads'; half?: number; seed?: number }
  | { analysis: 'ablation'; heads?: { layer: number; head: number }[]; mlps?: number[]; layers?: number[]; mode?: 'zero' | 'mean'; top?: number }
  | { analysis: 'patching'; corrupted: number[]; target: number; versus: number; what?: PatchWhat }
  /** Rollout after every layer and the next token's attention; `window`/`cells` choose the tile sent. */
  | { analysis: 'rollout'; window?: Window; cells?: number };

export type AnalysisView =
  | {
      analysis: 'lens';
      hooks: string[];
      positions: number;
      k: number;
      /** [depth, position, k] ids and probabilities, most likely first. */
      topIds: Int32Array;
      topProbs: Float32Array;
      target?: { id: number; probs: Float32Array; ranks: Int32Array };
    }
  | { analysis: 'attribution'; position: number; target: number; versus?: number; logit: number; total: number; normScale: number; components: AttributionComponent[]; biases: { name: string; value: number }[] }
  | ({ analysis: 'heads'; repeated: number[] } & HeadScores)
  | { analysis: 'ablation'; firstLayer: number; replaced: string[]; maxAbsDelta: number; meanAbsDelta: number; loss?: { before: number; after: number; delta: number }; top: { position: number; before: TokenProb[]; after: TokenProb[] }[] }
  | { analysis: 'patching'; what: PatchWhat; hooks: string[]; rows: number; cols: number; values: Float32Array; clean: number; corrupted: number }
  | {
      analysis: 'rollout';
      layers: number;
      positions: number;
      /** [layer] tiles of the rollout matrix (query × source token), max-pooled to at most cells × cells. */
      tiles: { rows: number; cols: number; rowStep: number; colStep: number; data: Float32Array }[];
      window: Window;
      /** [layer][head] the last position's attention row. */
      nextToken: Float32Array;
      heads: number;
    };

export interface AnalysisReply {
  kind: 'analysis';
  view: AnalysisView;
  /** Labels of the ids the view mentions (tokenizer text, or the id). */
  labels: [number, string][];
}
