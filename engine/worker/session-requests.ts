/**
 * The worker's requests, dispatched to a session by kind, each reply with the buffers that are
 * transferred (not copied) back to the host: a step's view and mask, a window's tile, the pooled
 * heads of an overview.
 */
import type { AnalysisReply } from '../../protocol/analyses';
import type { ParamsInfo } from '../../protocol/webview';
import type { QuantReport, QuantStep } from '../../protocol/quant';
import type { AttentionWindow, Comparison, Exported, Generated, GenerateSampling, InputRequest, Loaded, Move, Moved, Overview, Tokenized, WorkerReply, WorkerRequest, WorkerRequests } from '../../protocol/worker';
import type { Control } from './control';

/** The request of kind `K` without its `kind`. */
export type RequestFields<K extends keyof WorkerRequests> = WorkerRequests[K]['request'];

/** What the dispatch asks of a session (engine/worker/session.ts), one method per request. */
export interface SessionRequests {
  load(configPath: string, input: InputRequest | undefined, weights: 'auto' | 'seeded', control: Control): Loaded;
  setInput(input: InputRequest, control: Control): Loaded;
  move(move: Move, control: Control): Moved;
  exportCurrent(format: 'npy' | 'json'): Exported;
  params(configPath?: string): ParamsInfo;
  analyse(req: RequestFields<'analyse'>): { reply: AnalysisReply; transfer: ArrayBuffer[] };
  tokenize(text: string): Tokenized;
  compare(req: RequestFields<'compare'>): Comparison;
  compareModel(req: RequestFields<'compareModel'>): Comparison;
  patchedStep(req: RequestFields<'patchedStep'>, control: Control): Moved;
  unpatch(control: Control): Moved;
  attentionWindow(req: RequestFields<'attentionWindow'>): AttentionWindow;
  attentionOverview(size: number | undefined, control: Control): Overview;
  quantize(spec: RequestFields<'quantize'>['spec'], control: Control): QuantReport;
  quantStep(head?: number): QuantStep;
  generate(count: number, sampling: GenerateSampling, at: string | undefined, control: Control): Generated;
  showGenerated(position: number, at: string | undefined, control: Control): Generated;
}

/** Answer one request synchronously; long ones check `control` between steps. */
export function handleRequest(session: SessionRequests, req: WorkerRequest, control: Control): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  switch (req.kind) {
    case 'load':
      return withTransfer(session.load(req.configPath, req.input, req.weights ?? 'auto', control));
    case 'setInput':
      return withTransfer(session.setInput(req.input, control));
    case 'move':
      return withTransfer(session.move(req.move, control));
    case 'export': {
      const reply = session.exportCurrent(req.format);
      return { reply, transfer: [reply.bytes.buffer as ArrayBuffer] };
    }
    case 'params':
      return { reply: { kind: 'params', params: session.params(req.configPath) }, transfer: [] };
    case 'analyse':
      return session.analyse(req);
    case 'tokenize':
      return { reply: session.tokenize(req.text), transfer: [] };
    case 'compare':
      return { reply: session.compare(req), transfer: [] };
    case 'compareModel':
      return { reply: session.compareModel(req), transfer: [] };
    case 'patchedStep':
      return withTransfer(session.patchedStep(req, control));
    case 'unpatch':
      return withTransfer(session.unpatch(control));
    case 'attentionWindow': {
      const reply = session.attentionWindow(req);
      return { reply, transfer: [reply.tile.data.buffer as ArrayBuffer, ...(reply.mask ? [reply.mask.buffer as ArrayBuffer] : [])] };
    }
    case 'attentionOverview': {
      const reply = session.attentionOverview(req.size, control);
      return { reply, transfer: reply.overview.layers.map((l) => l.data.buffer as ArrayBuffer) };
    }
    case 'quantize':
      return { reply: { kind: 'quantized', report: session.quantize(req.spec, control) }, transfer: [] };
    case 'quantStep': {
      const step = session.quantStep(req.head);
      return { reply: { kind: 'quantStep', step }, transfer: [step.fp, step.quantized, step.diff].map((v) => v.data.buffer as ArrayBuffer) };
    }
    case 'generate':
      return withTransfer(session.generate(req.count ?? 1, req.sampling ?? { kind: 'greedy' }, req.at, control));
    case 'showGenerated':
      return withTransfer(session.showGenerated(req.position, req.at, control));
    case 'crashForTest':
      throw new Error('crashForTest is handled by the worker entry');
  }
}

/** A reply that carries a position: its step's view (and attention mask) are transferred. */
function withTransfer(reply: Loaded | Moved | Generated): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  const step = reply.position.kind === 'step' ? reply.position.step : undefined;
  const transfer: ArrayBuffer[] = [];
  if (step) {
    transfer.push(step.view.data.buffer as ArrayBuffer);
    if (step.view.kind === 'attention' && step.view.mask) transfer.push(step.view.mask.buffer as ArrayBuffer);
  }
  return { reply, transfer };
}
