/**
 * Messages between the extension host and the inspector webview, written once and imported by both
 * sides. No `vscode`, no DOM. Large numeric payloads travel as typed arrays (structured clone), not
 * JSON number lists. Every message from the webview is checked with `parseFromWebview` before use.
 */
import type { QuantReport, QuantStep } from './quant';
import type { AnalysisReply, AnalysisRequest, PatchWhat, Window } from './analyses';
import { parseAnalysisRequest, parseRequestTexts, type RequestTexts } from './analysis-request';

/** Where a step sits in the architecture, for the breadcrumb: e.g. ['Encoder', 'Block 0', 'Attention', 'Pattern']. */
export type Breadcrumb = string[];

export interface ModelInfo {
  /** Absolute path of the config file. */
  configPath: string;
  /** `native` or the Hugging Face model_type. */
  family: string;
  architecture: 'encoder' | 'decoder' | 'encoder-decoder';
  /** e.g. "examples/tutorial/tutorial.safetensors" or "seeded random weights (seed 0)". */
  weights: string;
  /** True when no weights file was found and the model runs on seeded random weights. */
  seeded: boolean;
  /** Token labels of the input (decoded strings, or the ids as text). */
  tokens: string[];
  decoderTokens?: string[];
  /** Input ids as given. */
  ids: number[];
  /** The text the input was tokenized from, when it was given as text. */
  text?: string;
  decoderText?: string;
  decoderIds?: number[];
  /** Parameters allocated by the engine. */
  parameterCount: number;
  /** Tensors in the weights file that the model did not use. */
  unusedWeights: string[];
  /** Buffers and formula tables the weights file leaves out, computed by the engine (e.g. Marian's sinusoid tables). */
  computedBuffers?: string[];
}

export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  /** L2 norm of each row (token) of the matrix view. */
  rowNorms: number[];
  /** Histogram over all values: `counts[i]` values fall in [edges[i], edges[i+1]). */
  histogram: { edges: number[]; counts: number[] };
}

/** A (tokens × features) matrix view of a tensor, downsampled along features if wide. */
export interface MatrixView {
  kind: 'matrix';
  rows: number;
  cols: number;
  /** rows × cols, row-major. */
  data: Float32Array;
  /** Feature index of each shown column (columns are strided when the tensor is wider than shown). */
  colIndex: number[];
  /** Feature count before downsampling. */
  fullCols: number;
  rowLabels: string[];
  /** What the columns are: 'd_model', 'd_mlp', 'head × d_head', 'd_vocab'. */
  colName: string;
  /** The decoded token of each shown column, for d_vocab columns when there is a tokenizer. */
  colLabels?: string[];
}

/** One candidate next token at a position. */
export interface Prediction {
  id: number;
  /** Decoded token (or the id as text without a tokenizer). */
  token: string;
  /** Softmax probability over the whole vocabulary. */
  prob: number;
  logit: number;
}

/** What the logits predict, per position of batch element 0. */
export interface Predictions {
  /** Candidates listed per position. */
  k: number;
  vocab: number;
  positions: {
    /** Most likely first. */
    top: Prediction[];
    /** The token that actually comes next in the input: its rank (1 = top), probability and −log p. */
    next?: Prediction & { rank: number; loss: number };
  }[];
  /** Mean cross-entropy over the positions with a next token, and how many there were. */
  meanLoss?: number;
  scored?: number;
}

/** Attention scores or patterns of one layer: all heads, query × key, batch element 0. */
export interface AttentionView {
  kind: 'attention';
  heads: number;
  queries: number;
  keys: number;
  /** heads × queries × keys, row-major. */
  data: Float32Array;
  /** queries × keys: 1 = attended, 0 = masked out; absent when nothing was masked. */
  mask?: Uint8Array;
  queryLabels: string[];
  keyLabels: string[];
  /** Present when the engine max-pooled a long grid to what the panel draws: the full sides and tile sizes. */
  pooled?: { queries: number; keys: number; queryTile: number; keyTile: number };
}

/** Every attention pattern of the pass at once (layers × heads), each head pooled to a small grid. */
export interface AttentionOverview {
  layers: {
    /** The pattern's hook, e.g. `blocks.3.attn.hook_pattern` (clicking a head goes there). */
    name: string;
    heads: number;
    /** Pooled grid of each head: rows (queries) × cols (keys), the mean of each block. */
    rows: number;
    cols: number;
    /** heads × rows × cols, row-major. */
    data: Float32Array;
  }[];
}

export interface StepInfo {
  /** Position in the forward pass (0-based). */
  index: number;
  /** Steps computed so far, and whether the pass is complete (then it is the total). */
  computed: number;
  done: boolean;
  /** TransformerLens hook name, e.g. `blocks.0.attn.hook_pattern`. */
  name: string;
  breadcrumb: Breadcrumb;
  /** Symbolic dims, e.g. ['batch', 'head_index', 'query_pos', 'key_pos']. */
  dims: string[];
  shape: number[];
  /** A sentence on what this step computes (and, where sources disagree, which convention is used). */
  explanation: string;
  view: MatrixView | AttentionView;
  stats: TensorStats;
  /** At the logits step: the top-k next tokens per position, and the loss on the input. */
  predictions?: Predictions;
  /** Set when the stepper walks a patched run (a patching cell opened), not the input's own pass. */
  patched?: PatchedRunLabel;
}

/** Which activation of the clean run a patched run carries (engine/worker/patched-run.ts). */
export interface PatchedRunLabel {
  what: PatchWhat;
  layer: number;
  /** The hook patched, e.g. `blocks.1.hook_resid_pre`, and the position or head of it. */
  hook: string;
  position?: number;
  head?: number;
  /** In words: "the corrupted input with blocks.1.hook_resid_pre at position 3 from the clean run". */
  description: string;
}

/** One row of the parameter breakdown. */
export interface ParamRow {
  name: string;
  /** Exact count as a decimal string (counts can exceed 2^53). */
  count: string;
  note?: string;
  children?: ParamRow[];
}

export interface ParamsInfo {
  rows: ParamRow[];
  /** Labelled totals, e.g. [{label: 'Total', count: '124439808'}, {label: 'Without embeddings', …}]. */
  totals: { label: string; count: string; note?: string }[];
  /** Weight memory per dtype: label → bytes (decimal string). */
  memory: { dtype: string; bytes: string }[];
  kvCacheBytesPerToken?: string;
}

export type PanelTab = 'step' | 'params' | 'analyses' | 'quant';
const PANEL_TABS: readonly string[] = ['step', 'params', 'analyses', 'quant'];
const ANALYSIS_KINDS: readonly string[] = ['lens', 'attribution', 'heads', 'ablation', 'patching', 'rollout'];

/** Everything the panel needs to restore itself after being hidden or reloaded. */
export interface PanelState {
  configPath?: string;
  stepIndex?: number;
  selectedHead?: number;
  tab?: PanelTab;
  /** The analysis shown in the Analyses tab. */
  analysis?: AnalysisRequest['analysis'];
  /** How attention is drawn: a head's heatmap, its lines, or every layer × head. */
  attentionMode?: 'heatmap' | 'lines' | 'overview';
}

export type ToWebview =
  | { type: 'empty'; message: string }
  | { type: 'error'; message: string; where?: string }
  | { type: 'busy'; message: string; progress?: number }
  | { type: 'model'; model: ModelInfo; steps: { name: string; shape: number[] }[] }
  | { type: 'step'; step: StepInfo }
  | { type: 'beforeFirstStep'; computed: number; done: boolean }
  | { type: 'params'; params: ParamsInfo }
  | { type: 'showTab'; tab: PanelTab }
  /** An analysis of the current input, answering the panel's `analyse` (the request it answers, tokenized). */
  | { type: 'analysis'; request: AnalysisRequest; reply: AnalysisReply }
  /** Compare With…: the current input against another at one hook (protocol/worker.ts's Comparison). */
  | { type: 'comparison'; comparison: ComparisonView }
  /** The visible window of a head of a long attention step (zoom and pan), at most what the panel draws. */
  | { type: 'attentionWindow'; window: AttentionWindowTile }
  /** Select a head of the attention view (the sidebar's head nodes). */
  | { type: 'selectHead'; head: number }
  | { type: 'overview'; overview: AttentionOverview }
  /** The model was quantized (Quantize Model…): the engine's report; `undefined` when the quantized model is gone (a new load). */
  | { type: 'quant'; report?: QuantReport }
  /** The current hook in the float and the quantized model. */
  | { type: 'quantStep'; step: QuantStep }
  /** The ablation set the host keeps (the sidebar's Add to / Remove from Ablation, the panel's own clicks). */
  | ({ type: 'ablation' } & AblationSetMessage)
  /** The tokens Generate Next Token appended and the position the steps are of; `undefined` when the input changed. */
  | { type: 'generation'; generation?: GenerationInfo };

/** One token Generate Next Token appended to the input. */
export interface GeneratedToken {
  /** Its position in the input (0-based). */
  position: number;
  id: number;
  token: string;
  /** Its probability under the previous position's logits (what it was picked from). */
  prob: number;
}

/**
 * The input grew by generated tokens: the steps shown are of one position only (`shown`), its attention
 * one query row over every key up to it (engine/worker/generation.ts).
 */
export interface GenerationInfo {
  /** Tokens of the input before the first generated one. */
  promptLength: number;
  tokens: GeneratedToken[];
  /** The position whose steps the stepper walks (one of `tokens`). */
  shown: number;
}

/** One head's window of an attention step: `tile` covers `tile.window` of the full `queries` × `keys` grid. */
export interface AttentionWindowTile {
  name: string;
  head: number;
  queries: number;
  keys: number;
  tile: { rows: number; cols: number; rowStep: number; colStep: number; window: Window; data: Float32Array };
  mask?: Uint8Array;
}

/** Two runs at one hook side by side: each reduced as a step view, their difference, the top changes. */
export interface ComparisonView {
  hook: string;
  /** The hook in each run, reduced as a step view is. */
  a: MatrixView | AttentionView;
  b: MatrixView | AttentionView;
  /** b − a at the hook, and its size; absent when the shapes differ (inputs of different lengths). */
  diff?: MatrixView | AttentionView;
  maxAbs?: number;
  meanAbs?: number;
  relative?: number;
  /** Every hook both runs recorded with one shape: how much it changed. */
  hooks: { hook: string; maxAbs: number; relative: number }[];
  unmatched: string[];
  /** At the last position: the tokens whose probability moved most. */
  topChanges: { id: number; token: string; before: number; after: number; delta: number }[];
  tokensB: string[];
  /** Two models over one input (Compare With… another model): what each side is. */
  models?: { a: string; b: string };
}

/** The largest tile side the panel may ask for. */
export const MAX_TILE_SIDE = 1024;

export type WebviewCommand = 'stepForward' | 'stepBack' | 'runToEnd' | 'reset' | 'setInput' | 'exportTensor' | 'quantizeModel' | 'generateNextToken';
const WEBVIEW_COMMANDS: readonly WebviewCommand[] = ['stepForward', 'stepBack', 'runToEnd', 'reset', 'setInput', 'exportTensor', 'quantizeModel', 'generateNextToken'];

export type FromWebview =
  | { type: 'ready'; state?: PanelState }
  | { type: 'command'; command: WebviewCommand }
  | { type: 'goToStep'; index: number }
  | { type: 'goToHook'; name: string }
  | { type: 'selectHead'; head: number }
  | { type: 'showTab'; tab: PanelTab }
  /** Run an analysis on the current input; `texts` (a typed target token, the corrupted input) are tokenized by the host. */
  | { type: 'analyse'; request: AnalysisRequest; texts?: RequestTexts }
  /** Save the last answer of an analysis as a figure (SVG, PNG) or data (.npy, JSON). */
  | { type: 'exportAnalysis'; analysis: AnalysisRequest['analysis']; format: 'svg' | 'png' | 'npy' | 'json' }
  /** The visible window of a head of the current attention step, at most `cells` × `cells` values. */
  | { type: 'requestAttentionWindow'; head: number; window: Window; cells: number }
  /** Ask for the layers × heads overview of every attention pattern. */
  | { type: 'requestOverview' }
  /** The panel closed the comparison: stop re-comparing at each step. */
  | { type: 'closeComparison' }
  /** Open a cell of the last patching answer as its patched run in the Step tab (row = layer, col = position or head). */
  | { type: 'openPatchedStep'; row: number; col: number }
  /** Back from a patched run to the input's own pass. */
  | { type: 'unpatch' }
  /** The panel changed the ablation set (detector grid clicks, Clear). */
  | ({ type: 'ablationSet' } & AblationSetMessage)
  /** Walk the steps of this generated position (its attention row over the keys it saw). */
  | { type: 'showGenerated'; position: number };

/** The parts chosen for ablation: heads as `layer.head`, MLPs and whole layers by index. */
export interface AblationSetMessage {
  heads: string[];
  mlps: number[];
  layers: number[];
}

const MAX_ABLATION_PARTS = 4096;

/** Validate an untrusted message from the webview; undefined for anything malformed or unknown. */
export function parseFromWebview(msg: unknown): FromWebview | undefined {
  if (typeof msg !== 'object' || msg === null) return undefined;
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      if (m.state === undefined) return { type: 'ready' };
      return isPanelState(m.state) ? { type: 'ready', state: m.state } : undefined;
    case 'command':
      return WEBVIEW_COMMANDS.includes(m.command as WebviewCommand) ? { type: 'command', command: m.command as WebviewCommand } : undefined;
    case 'goToStep':
      return isIndex(m.index) ? { type: 'goToStep', index: m.index } : undefined;
    case 'goToHook':
      return typeof m.name === 'string' && m.name.length < 200 ? { type: 'goToHook', name: m.name } : undefined;
    case 'selectHead':
      return isIndex(m.head) ? { type: 'selectHead', head: m.head } : undefined;
    case 'showTab':
      return PANEL_TABS.includes(m.tab as string) ? { type: 'showTab', tab: m.tab as PanelTab } : undefined;
    case 'analyse': {
      const request = parseAnalysisRequest(m.request);
      const texts = parseRequestTexts(m.texts);
      if (!request || !texts) return undefined;
      return Object.keys(texts).length ? { type: 'analyse', request, texts } : { type: 'analyse', request };
    }
    case 'requestOverview':
      return { type: 'requestOverview' };
    case 'closeComparison':
    case 'unpatch':
      return { type: m.type };
    case 'openPatchedStep':
      return isIndex(m.row) && isIndex(m.col) ? { type: 'openPatchedStep', row: m.row, col: m.col } : undefined;
    case 'ablationSet': {
      const list = (v: unknown, ok: (x: unknown) => boolean) => Array.isArray(v) && v.length <= MAX_ABLATION_PARTS && v.every(ok);
      const headKey = (x: unknown) => typeof x === 'string' && /^\d{1,6}\.\d{1,6}$/.test(x);
      if (!list(m.heads, headKey) || !list(m.mlps, isIndex) || !list(m.layers, isIndex)) return undefined;
      return { type: 'ablationSet', heads: [...(m.heads as string[])], mlps: [...(m.mlps as number[])], layers: [...(m.layers as number[])] };
    }
    case 'showGenerated':
      return isIndex(m.position) ? { type: 'showGenerated', position: m.position } : undefined;
    case 'exportAnalysis':
      return ANALYSIS_KINDS.includes(m.analysis as string) && ['svg', 'png', 'npy', 'json'].includes(m.format as string)
        ? { type: 'exportAnalysis', analysis: m.analysis as AnalysisRequest['analysis'], format: m.format as 'svg' | 'png' | 'npy' | 'json' }
        : undefined;
    case 'requestAttentionWindow': {
      const w = m.window as Record<string, unknown> | null;
      if (!isIndex(m.head) || !isIndex(m.cells) || m.cells < 1 || m.cells > MAX_TILE_SIDE) return undefined;
      if (typeof w !== 'object' || w === null || ![w.row0, w.row1, w.col0, w.col1].every(isIndex)) return undefined;
      const window = { row0: w.row0 as number, row1: w.row1 as number, col0: w.col0 as number, col1: w.col1 as number };
      if (window.row0 >= window.row1 || window.col0 >= window.col1) return undefined;
      return { type: 'requestAttentionWindow', head: m.head, window, cells: m.cells };
    }
    default:
      return undefined;
  }
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isPanelState(v: unknown): v is PanelState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    (s.configPath === undefined || typeof s.configPath === 'string') &&
    (s.stepIndex === undefined || isIndex(s.stepIndex)) &&
    (s.selectedHead === undefined || isIndex(s.selectedHead)) &&
    (s.tab === undefined || PANEL_TABS.includes(s.tab as string)) &&
    (s.analysis === undefined || ANALYSIS_KINDS.includes(s.analysis as string)) &&
    (s.attentionMode === undefined || s.attentionMode === 'heatmap' || s.attentionMode === 'lines' || s.attentionMode === 'overview')
  );
}
