import type { Place } from './place';
import type { AttentionOverview, ModelInfo, ParamsInfo, StepInfo, ComparisonView, GenerationInfo } from './webview';
import type { ModelNode } from './tree';
import type { AnalysisReply, AnalysisRequest, PatchWhat, Window } from './analyses';
import type { QuantReport, QuantStep, QuantizeSpec } from './quant';

/**
 * Messages between the extension host's engine client and the engine worker (dist/worker.js).
 * Requests are answered in order, one reply (or failure) per request id; progress may come before.
 * Typed arrays in replies are transferred, not copied.
 */

export interface InputIds {
  ids: number[];
  /** Decoder input of an encoder-decoder model. */
  decoderIds?: number[];
}

/** An input as the user gives it: ids, or text for the tokenizer beside the config (one of each side). */
export interface InputRequest {
  ids?: number[];
  text?: string;
  decoderIds?: number[];
  decoderText?: string;
}

export type Move =
  | { to: 'next' }
  | { to: 'previous' }
  | { to: 'start' }
  | { to: 'end' }
  | { to: 'index'; index: number }
  | { to: 'hook'; name: string }
  /** A module's first step named `path.prefer[i]` (in order of preference), else its last step. */
  | { to: 'module'; path: string; prefer: string[] };

/** Where the cursor is: on a step, or before the first one. */
export type Position = { kind: 'step'; step: StepInfo } | { kind: 'before'; computed: number; done: boolean };

export interface StepSummary {
  name: string;
  shape: number[];
}

/** What the host needs to check an input before sending it. */
export interface InputLimits {
  architecture: ModelInfo['architecture'];
  vocabSize: number;
  /** Vocabulary of the decoder input (= vocabSize except for encoder-decoder models with tgt_vocab_size). */
  decoderVocabSize: number;
  maxLen: number;
  /** The tokenizer.json beside the config, when there is one: text input is accepted. */
  tokenizer?: string;
}

export interface Loaded {
  kind: 'loaded';
  model: ModelInfo;
  /** Every step when the whole pass was computed on load (small models), else the ones computed so far. */
  steps: StepSummary[];
  tree: ModelNode;
  limits: InputLimits;
  position: Position;
}

export interface Moved {
  kind: 'moved';
  position: Position;
  /** Present when the list of computed steps grew. */
  steps?: StepSummary[];
  /** The move stopped early because the host cancelled it. */
  cancelled?: boolean;
}

export interface Exported {
  kind: 'exported';
  name: string;
  shape: number[];
  bytes: Uint8Array;
}

/** One head's visible window of the current attention step, at most `cells` × `cells` (engine/worker/attention-window.ts). */
export interface AttentionWindow {
  kind: 'attentionWindow';
  name: string;
  head: number;
  /** The full sides of the grid. */
  queries: number;
  keys: number;
  tile: { rows: number; cols: number; rowStep: number; colStep: number; window: Window; data: Float32Array };
  /** 1 where any entry of the cell is attended; absent when nothing in the window is masked out. */
  mask?: Uint8Array;
}

/** The current input against another one at one hook (engine/worker/compare-view.ts). */
/** Compare With…'s reply: the comparison the panel draws (protocol/webview.ts's ComparisonView). */
export interface Comparison extends ComparisonView {
  kind: 'comparison';
}

/** How Generate Next Token picks a token: the most likely, or top-k at a temperature with a seed. */
export type GenerateSampling = { kind: 'greedy' } | { kind: 'top_k'; k: number; temperature: number; seed: number };

/** The input after Generate Next Token (or a generated position picked): the steps are of one position. */
export interface Generated {
  kind: 'generated';
  model: ModelInfo;
  steps: StepSummary[];
  position: Position;
  generation: GenerationInfo;
}

export interface Params {
  kind: 'params';
  params: ParamsInfo;
}

export interface Tokenized {
  kind: 'tokenized';
  ids: number[];
  /** The decoded text of each token. */
  tokens: string[];
}

export interface Overview {
  kind: 'overview';
  overview: AttentionOverview;
  /** Every step: the overview computed the whole pass. */
  steps: StepSummary[];
}

export interface Quantized {
  kind: 'quantized';
  report: QuantReport;
}

export interface QuantStepReply {
  kind: 'quantStep';
  step: QuantStep;
}

/**
 * Every request the host may send, by kind: its fields and the reply it is answered with. The request
 * union and the reply of each kind are derived from this one map, never listed twice.
 */
export interface WorkerRequests {
  load: { request: { configPath: string; input?: InputRequest; weights?: 'auto' | 'seeded' }; reply: Loaded };
  setInput: { request: { input: InputRequest }; reply: Loaded };
  move: { request: { move: Move }; reply: Moved };
  export: { request: { format: 'npy' | 'json' }; reply: Exported };
  /** The parameter breakdown of this config (by analysis; no model needed), or of the loaded one. */
  params: { request: { configPath?: string }; reply: Params };
  /** An analysis of the loaded model on the current input (engine/analyses/views.ts). */
  analyse: { request: { request: AnalysisRequest }; reply: AnalysisReply };
  /** Every attention pattern of the pass, each head pooled to at most `size` × `size` (computes the whole pass). */
  attentionOverview: { request: { size?: number }; reply: Overview };
  /** The current input against another through the loaded model, at one hook. */
  compare: { request: { input: InputRequest; hook: string }; reply: Comparison };
  /** The current input through the loaded model and another one (a config/folder, or the quantized copy), at one hook. */
  compareModel: { request: { with: { path: string } | { quantized: true }; hook: string }; reply: Comparison };
  /** Step through the patched run of a patching cell (the clean run's activation in the corrupted one), at the patched hook. */
  patchedStep: { request: { corrupted: number[]; what: PatchWhat; layer: number; col: number }; reply: Moved };
  /** Back from a patched run to the input's own pass, at the same hook. */
  unpatch: { request: object; reply: Moved };
  /** The visible window of one head of the current attention step, for zoom and pan on long inputs. */
  attentionWindow: { request: { head: number; window: Window; cells: number }; reply: AttentionWindow };
  /** Text through the loaded model's tokenizer (for the live token count while the user types). */
  tokenize: { request: { text: string }; reply: Tokenized };
  /** Quantize the loaded model's linears (kept beside the float weights until the next load) and measure it. */
  quantize: { request: { spec: QuantizeSpec }; reply: Quantized };
  /** The current step in the float and the quantized pass (one head of an attention hook), and their difference. */
  quantStep: { request: { head?: number }; reply: QuantStepReply };
  /**
   * Append `count` tokens (default 1) to the input with the KV cache and trace only the last new position;
   * the cursor lands on the hook `at` of it when given, else on its logits (engine/worker/generation.ts).
   */
  generate: { request: { count?: number; sampling?: GenerateSampling; at?: string }; reply: Generated };
  /** Trace one generated position again (over the keys it saw), to walk its steps. */
  showGenerated: { request: { position: number; at?: string }; reply: Generated };
  /** Ends the worker abruptly (exit code 70): lets tests check that a crash is reported and recovered from. */
  crashForTest: { request: object; reply: never };
}

export type WorkerRequestKind = keyof WorkerRequests;

/** One request: `{ kind, ...fields }`, narrowed by `kind`. */
export type WorkerRequest = { [K in WorkerRequestKind]: { kind: K } & WorkerRequests[K]['request'] }[WorkerRequestKind];

/** The reply a request of kind `K` is answered with. */
export type ReplyFor<K extends WorkerRequestKind> = WorkerRequests[K]['reply'];

export type WorkerReply = ReplyFor<WorkerRequestKind>;

export interface WorkerFailure {
  message: string;
  /** A mistake in the user's config, weights or input (an InspectorError), not an engine bug. */
  user: boolean;
  place?: Place;
  stack?: string;
}

export interface HostToWorker {
  id: number;
  request: WorkerRequest;
}

export type WorkerToHost =
  | { kind: 'reply'; id: number; reply: WorkerReply }
  | { kind: 'failure'; id: number; failure: WorkerFailure }
  | { kind: 'progress'; id: number; message: string; fraction?: number };

/** The worker's `workerData`: a shared Int32Array slot the host writes a request id into to cancel it. */
export interface WorkerData {
  cancel: SharedArrayBuffer;
}

/** Host → engine process: stop request `id` at the next step boundary (the process relays it to the session thread). */
export interface CancelMessage {
  kind: 'cancel';
  id: number;
}

/** The session thread's `workerData` inside the engine process. */
export interface EngineData extends WorkerData {
  /** Bytes a forward pass's trace and views may hold (the activation budget). */
  memoryBudget: number;
}
