import type { Place } from '../errors';
import type { AttentionOverview, ModelInfo, ParamsInfo, StepInfo } from '../../src/protocol';
import type { ModelNode } from './tree';

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

export type WorkerRequest =
  | { kind: 'load'; configPath: string; input?: InputRequest; weights?: 'auto' | 'seeded' }
  | { kind: 'setInput'; input: InputRequest }
  | { kind: 'move'; move: Move }
  | { kind: 'export'; format: 'npy' | 'json' }
  /** The parameter breakdown of this config (by analysis; no model needed), or of the loaded one. */
  | { kind: 'params'; configPath?: string }
  /** Every attention pattern of the pass, each head pooled to at most `size` × `size` (computes the whole pass). */
  | { kind: 'attentionOverview'; size?: number }
  /** Text through the loaded model's tokenizer (for the live token count while the user types). */
  | { kind: 'tokenize'; text: string }
  /** Ends the worker abruptly (exit code 70): lets tests check that a crash is reported and recovered from. */
  | { kind: 'crashForTest' };

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

export type WorkerReply = Loaded | Moved | Exported | Params | Tokenized | Overview;

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
