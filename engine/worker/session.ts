import { InspectorError } from '../errors';
import { findConfig, loadModel, type LoadedModel } from '../model/load';
import { analyzeConfig, analyzeFile } from '../analysis/index';
import { GgufFile } from '../io/gguf';
import { ggufLlamaConfig } from '../io/gguf-llama';
import type { JsonValue } from '../config/json';
import { formatBytes } from '../model/streaming';
import { Stepper } from '../trace/stepper';
import { boundedForward } from '../trace/store';
import type { Step } from '../trace/step';
import { isAttentionHook } from '../trace/hooks';
import type { ModelInfo, ParamsInfo, StepInfo } from '../../protocol/webview';
import { attentionView, matrixView, poolHeads, type Reduced } from './views';
import { nextTokenTargets, predictionsView } from './predictions';
import { breadcrumb, explain, explainTerms, type ExplainTerms } from './explain';
import { encodeNpy, encodeTensorJson } from './export';
import { modelTree, type ModelNode } from './tree';
import { descriptionTree } from './description-tree';
import { paramsInfo } from './params';
import { defaultMemoryBudget } from '../model/memory-budget';
import { checkBudget, checkWholeTrace } from './budget';
import { isTracePath } from '../tracefile/reader';
import { replayTrace } from '../tracefile/replay';
import { absentHookError, openTrace, traceModelInfo, type OpenedTrace } from '../tracefile/session';
import type { Generated, GenerateSampling, InputIds, InputLimits, InputRequest, Loaded, Move, Moved, Overview, Position, StepSummary, Tokenized, WorkerReply, WorkerRequest } from '../../protocol/worker';
import { analysisView } from '../analyses/views';
import { QuantSession } from './quant-session';
import type { QuantizeSpec } from '../../protocol/quant';
import { attentionWindow } from './attention-window';
import { compareView } from './compare-view';
import { checkComparisonBudget, chooseComparer, type ModelComparer } from './model-compare';
import { patchedRun, type PatchedRun } from './patched-run';
import { Generation, replay, type TracedPosition } from './generation';
import { stepProgress } from './layer-progress';

/** How a long request checks for cancellation and reports progress (between steps). */
export interface Control {
  cancelled(): boolean;
  progress(message: string, fraction?: number): void;
}

export const NO_CONTROL: Control = { cancelled: () => false, progress: () => {} };

/** The input used until the user sets one: ids 1, 2, … (at most 8, within the vocabulary and max_len). */
export const DEFAULT_INPUT_LENGTH = 8;

/** With a tokenizer, the default input is this text (when it fits the vocabulary and max_len). */
export const DEFAULT_TEXT = 'The quick brown fox jumps over the lazy dog';


/**
 * Forward passes computed on load when they are this cheap (about 2 · parameters · tokens
 * multiply-adds): then the panel knows every step from the start. Larger models compute lazily.
 */
export const EAGER_FLOP_BUDGET = 2e8;

/**
 * One inspected model in the worker: the loaded model, its input and a stepper over its forward
 * pass. Every request is answered synchronously; long ones check `control` between steps.
 */
export class Session {
  /** Bytes a forward pass's trace and views may hold (see ./budget). */
  readonly memoryBudget: number;
  private loaded: LoadedModel | undefined;
  private input: InputIds | undefined;
  /** The text each side was tokenized from, when the input was given as text. */
  private inputText: { text?: string; decoderText?: string } = {};
  private stepper: Stepper | undefined;
  private tree: ModelNode | undefined;
  /** The terms this model's formulas have (biases, the head's name), from its tree. */
  private terms: ExplainTerms | undefined;
  /** Set when the session walks a recorded trace instead of computing. */
  private traced: OpenedTrace | undefined;
  /** The quantized model beside the float one, after a `quantize` request (until the next load). */
  private quant: QuantSession | undefined;
  /** Compare With… another model: the second model, loaded beside this one until the next load. */
  private comparer: ModelComparer | undefined;
  /** Set while the stepper walks a patching cell's patched run instead of the input's pass. */
  private patched: PatchedRun | undefined;

  /** Bytes the weights may take before they are streamed layer by layer; absent: held whole when they fit beside the budget. */
  private readonly weightBudget: number | undefined;
  /** Generate Next Token's KV cache and appended tokens (until the input is set or the model loaded again). */
  private generation: Generation | undefined;
  /** The generated position the stepper walks (its steps alone), or undefined for the whole pass. */
  private shown: number | undefined;

  constructor(opts: { memoryBudget?: number; weightBudget?: number } = {}) {
    this.memoryBudget = opts.memoryBudget ?? defaultMemoryBudget();
    this.weightBudget = opts.weightBudget;
  }

  handle(req: WorkerRequest, control: Control = NO_CONTROL): { reply: WorkerReply; transfer: ArrayBuffer[] } {
    switch (req.kind) {
      case 'load':
        return withTransfer(this.load(req.configPath, req.input, req.weights ?? 'auto', control));
      case 'setInput':
        return withTransfer(this.setInput(req.input, control));
      case 'move':
        return withTransfer(this.move(req.move, control));
      case 'export': {
        const reply = this.exportCurrent(req.format);
        return { reply, transfer: [reply.bytes.buffer as ArrayBuffer] };
      }
      case 'params':
        return { reply: { kind: 'params', params: this.params(req.configPath) }, transfer: [] };
      case 'analyse': {
        const loaded = this.require();
        const input = this.input!;
        checkWholeTrace(loaded.spec, input, this.memoryBudget, 'this analysis');
        return analysisView(loaded, { ids: [input.ids], decoderIds: input.decoderIds && [input.decoderIds] }, req.request);
      }
      case 'tokenize':
        return { reply: this.tokenize(req.text), transfer: [] };
      case 'compare': {
        const loaded = this.require();
        if (loaded.spec.architecture === 'encoder-decoder') throw new InspectorError('Compare With… runs single-stack models (encoder or decoder)');
        const other = resolveInput(loaded, req.input);
        for (const side of [this.input!, other]) checkWholeTrace(loaded.spec, side, this.memoryBudget, 'Compare With…');
        const label = (id: number) => (loaded.tokenizer ? loaded.tokenizer.label(id) : String(id));
        const reply = compareView(loaded, { ids: [this.input!.ids] }, { ids: [other.ids] }, req.hook, { a: this.modelInfo().tokens, b: other.ids.map(label) });
        return { reply, transfer: [] };
      }
      case 'compareModel': {
        const loaded = this.require();
        if (this.traced) throw new InspectorError('a recorded trace has no model to run on another checkpoint: open the model itself', { file: this.traced.trace.path });
        checkComparisonBudget(loaded, this.input!, this.memoryBudget);
        this.comparer = chooseComparer(this.comparer, loaded, req.with, this.quant, { memoryBudget: this.weightBudget });
        const label = (id: number) => (loaded.tokenizer ? loaded.tokenizer.label(id) : String(id));
        return { reply: this.comparer.compare(this.input!, req.hook, this.modelInfo().tokens, label), transfer: [] };
      }
      case 'patchedStep': {
        const loaded = this.require();
        if (this.traced) throw new InspectorError('a recorded trace cannot be patched: open the model itself', { file: this.traced.trace.path });
        const run = patchedRun(loaded, this.input!, req.corrupted, req.what, req.layer, req.col);
        checkInput(run.input, inputLimits(loaded));
        this.patched = run;
        this.restart();
        return withTransfer(this.move({ to: 'hook', name: run.label.hook }, control));
      }
      case 'unpatch': {
        const at = this.stepper?.current?.name;
        this.patched = undefined;
        this.restart();
        return withTransfer(at ? this.move({ to: 'hook', name: at }, control) : this.move({ to: 'start' }, control));
      }
      case 'attentionWindow': {
        const step = this.requireStepper().current;
        if (!step) throw new InspectorError('no current step: step to an attention pattern first');
        const reply = attentionWindow(step.name, step.tensor, step.mask, req.head, req.window, req.cells);
        return { reply, transfer: [reply.tile.data.buffer as ArrayBuffer, ...(reply.mask ? [reply.mask.buffer as ArrayBuffer] : [])] };
      }
      case 'attentionOverview': {
        const reply = this.attentionOverview(req.size, control);
        return { reply, transfer: reply.overview.layers.map((l) => l.data.buffer as ArrayBuffer) };
      }
      case 'quantize':
        return { reply: { kind: 'quantized', report: this.quantize(req.spec, control) }, transfer: [] };
      case 'quantStep': {
        const step = this.quantStep(req.head);
        return { reply: { kind: 'quantStep', step }, transfer: [step.fp, step.quantized, step.diff].map((v) => v.data.buffer as ArrayBuffer) };
      }
      case 'generate':
        return withTransfer(this.generate(req.count ?? 1, req.sampling ?? { kind: 'greedy' }, req.at, control));
      case 'showGenerated':
        return withTransfer(this.showGenerated(req.position, req.at, control));
      case 'crashForTest':
        throw new Error('crashForTest is handled by the worker entry');
    }
  }

  load(configPath: string, input: InputRequest | undefined, weights: 'auto' | 'seeded', control: Control): Loaded {
    control.progress('Reading the config and building the model…');
    // Drop the old model first: a failed load leaves no stale model behind.
    this.loaded = undefined;
    this.stepper = undefined;
    this.tree = undefined;
    this.traced = undefined;
    this.quant = undefined;
    this.comparer = undefined;
    this.patched = undefined;
    if (isTracePath(configPath)) return this.loadTrace(configPath, control);
    // Weights are held whole when they fit beside the budget, else streamed; loadModel refuses a model too large, naming this budget.
    const loaded = loadModel(configPath, { weights, memoryBudget: this.weightBudget, activationBudget: this.memoryBudget, progress: (m) => control.progress(m) });
    const limits = inputLimits(loaded);
    const chosen = input ? resolveInput(loaded, input) : defaultInput(limits, loaded);
    checkBudget(loaded.spec, chosen, this.memoryBudget);
    checkInput(chosen, limits);
    this.loaded = loaded;
    this.input = chosen;
    this.inputText = input ? textOf(input) : defaultText(chosen, loaded);
    this.tree = loaded.description ? descriptionTree(loaded.description) : modelTree(loaded.model);
    this.terms = explainTerms(this.tree, loaded.spec.family);
    this.restart();
    this.precomputeIfCheap(control);
    return { kind: 'loaded', model: this.modelInfo(), steps: this.stepSummaries(), tree: this.tree, limits, position: this.position() };
  }

  /** A recorded trace: the stepper walks its hooks, reading each from disk; nothing is computed. */
  private loadTrace(tracePath: string, control: Control): Loaded {
    const opened = openTrace(tracePath);
    const input = opened.trace.manifest.input;
    this.loaded = opened.loaded;
    this.traced = opened;
    this.input = { ids: input.ids[0], ...(input.decoder_ids ? { decoderIds: input.decoder_ids[0] } : {}) };
    this.tree = opened.loaded.description ? descriptionTree(opened.loaded.description) : modelTree(opened.loaded.model);
    this.restart();
    this.precomputeIfCheap(control);
    return { kind: 'loaded', model: this.modelInfo(), steps: this.stepSummaries(), tree: this.tree, limits: inputLimits(opened.loaded), position: this.position() };
  }

  setInput(input: InputRequest, control: Control): Loaded {
    const loaded = this.require();
    if (this.traced) throw new InspectorError("a trace's input was fixed when it was recorded: record a trace of the other input", { file: loaded.configPath });
    const limits = inputLimits(loaded);
    const ids = resolveInput(loaded, input);
    checkBudget(loaded.spec, ids, this.memoryBudget);
    checkInput(ids, limits);
    this.input = ids;
    this.inputText = textOf(input);
    this.patched = undefined;
    this.restart();
    this.precomputeIfCheap(control);
    return { kind: 'loaded', model: this.modelInfo(), steps: this.stepSummaries(), tree: this.tree as ModelNode, limits, position: this.position() };
  }

  move(move: Move, control: Control): Moved {
    const s = this.requireStepper();
    const before = s.steps.length;
    let cancelled = false;
    switch (move.to) {
      case 'next':
        s.next();
        break;
      case 'previous':
        s.previous();
        break;
      case 'start':
        s.reset();
        break;
      case 'end':
        cancelled = !this.computeUntil(() => false, control);
        if (!cancelled) s.runToEnd();
        else s.goTo(s.steps.length - 1);
        break;
      case 'index':
        cancelled = !this.computeUntil(() => s.steps.length > move.index, control);
        if (!cancelled) {
          if (move.index >= s.steps.length) throw new InspectorError(`the forward pass has ${s.steps.length} steps; there is no step ${move.index}`);
          s.goTo(move.index);
        }
        break;
      case 'hook': {
        if (this.traced?.absent.includes(move.name)) throw absentHookError(move.name, this.traced.trace.path);
        const found = () => s.steps.some((x) => x.name === move.name);
        cancelled = !this.computeUntil(found, control);
        if (!cancelled) s.runTo(move.name); // throws "no step named" when the pass ended without it
        break;
      }
      case 'module': {
        const under = (name: string) => name.startsWith(`${move.path}.`);
        const named = (p: string) => s.steps.find((x) => x.name === `${move.path}.${p}`);
        // The module is over once a step outside it follows one inside it.
        const over = () => s.steps.some((x, i) => i > 0 && under(s.steps[i - 1].name) && !under(x.name));
        cancelled = !this.computeUntil(() => (move.prefer.length > 0 && named(move.prefer[0]) !== undefined) || over(), control);
        if (!cancelled) {
          const target = move.prefer.map(named).find((x) => x !== undefined) ?? s.steps.filter((x) => under(x.name)).pop();
          if (!target) throw new InspectorError(`no step of this forward pass belongs to '${move.path}'`);
          s.runTo(target.name);
        }
        break;
      }
    }
    const reply: Moved = { kind: 'moved', position: this.position() };
    if (s.steps.length !== before) reply.steps = this.stepSummaries();
    if (cancelled) reply.cancelled = true;
    return reply;
  }

  /** Append tokens with the KV cache (engine/worker/generation.ts); the stepper then walks the last new position. */
  generate(count: number, sampling: GenerateSampling, at: string | undefined, control: Control): Generated {
    const loaded = this.require();
    if (this.traced) throw new InspectorError('a recorded trace cannot generate: open the model itself', { file: this.traced.trace.path });
    if (!Number.isInteger(count) || count < 1) throw new InspectorError(`generate: give a positive number of tokens, not ${count}`);
    if (this.patched) throw new InspectorError('a patched run is not the input\'s own pass: go back to the normal run to generate');
    // The keys and values of a finished pass are the cache already; otherwise the input runs once more.
    if (!this.generation) {
      const s = this.stepper;
      const finished = s?.done && s.result ? Generation.fromPass(loaded.model, this.input!.ids, s.steps, s.result) : undefined;
      this.generation = finished ?? Generation.prefill(loaded.model, this.input!.ids, control);
    }
    const from = this.input!.ids.length;
    const added = this.generation?.append(count, sampling, control);
    if (!this.generation || !added) throw new InspectorError('cancelled before a token was generated: the input is as it was');
    this.input = { ids: [...this.generation.ids] };
    this.inputText = roundTripText(loaded, this.inputText.text, this.generation.ids, from);
    return this.walkPosition(added, at);
  }

  /** Walk the steps of an earlier (or the last) generated position. */
  showGenerated(position: number, at: string | undefined, control: Control): Generated {
    if (!this.generation) throw new InspectorError('no token was generated for this input: run Generate Next Token first');
    const traced = this.generation.trace(position, control);
    if (!traced) throw new InspectorError('cancelled: the steps shown are unchanged');
    return this.walkPosition(traced, at);
  }

  private walkPosition(traced: TracedPosition, at: string | undefined): Generated {
    const g = this.generation as Generation;
    this.shown = traced.position;
    this.stepper = new Stepper(replay(traced));
    this.stepper.runToEnd();
    if (at && traced.steps.some((x) => x.name === at)) this.stepper.runTo(at);
    const label = (id: number) => this.require().tokenizer?.label(id) ?? String(id);
    const generation = { promptLength: g.promptLength, tokens: g.tokens.map((t) => ({ ...t, token: label(t.id) })), shown: traced.position };
    return { kind: 'generated', model: this.modelInfo(), steps: this.stepSummaries(), position: this.position(), generation };
  }

  /** Quantize the loaded model (the float weights stay in place for the stepper) and report what it did. */
  quantize(spec: QuantizeSpec, control: Control) {
    const loaded = this.require();
    if (this.traced) throw new InspectorError('a recorded trace has no weights to quantize: open the model itself', { file: this.traced.trace.path });
    this.quant = undefined;
    checkWholeTrace(loaded.spec, this.input!, this.memoryBudget, 'quantizing');
    this.quant = QuantSession.quantize(loaded, this.input!, spec, control);
    return this.quant.report;
  }

  /** The current step beside the same hook of the quantized pass over the current input. */
  quantStep(head?: number) {
    const s = this.requireStepper();
    if (!this.quant) throw new InspectorError('the model is not quantized: run Quantize Model… first');
    if (this.patched) throw new InspectorError('a patched run has no quantized pass: go back to the normal run');
    const step = s.current;
    if (!step) throw new InspectorError('no current step to compare: step forward first');
    if (this.shown !== undefined) throw new InspectorError('the quantized comparison runs whole passes: the steps shown are of one generated position');
    const { rows, queries } = this.positionLabels(step.name);
    return this.quant.compare(step, s.index, this.input!, { rows, queries }, head);
  }

  /** Text → ids and decoded tokens with the loaded model's tokenizer (no limit applied: the host shows it). */
  tokenize(text: string): Tokenized {
    const loaded = this.require();
    if (!loaded.tokenizer) throw new InspectorError('this model has no tokenizer.json beside its config: give token ids', { file: loaded.configPath });
    const { ids } = loaded.tokenizer.encode(text);
    return { kind: 'tokenized', ids, tokens: ids.map((id) => loaded.tokenizer!.label(id)) };
  }

  /** Every `hook_pattern` of the pass (computing the rest of it first), each head pooled small. */
  attentionOverview(size: number | undefined, control: Control): Overview {
    const s = this.requireStepper();
    if (!this.computeUntil(() => false, control)) throw new InspectorError('cancelled before the whole pass was computed');
    const layers = s.steps
      .filter((step) => step.name.endsWith('.hook_pattern') && step.tensor.rank === 4)
      .map((step) => ({ name: step.name, ...poolHeads(step.tensor, size) }));
    return { kind: 'overview', overview: { layers }, steps: this.stepSummaries() };
  }

  exportCurrent(format: 'npy' | 'json'): { kind: 'exported'; name: string; shape: number[]; bytes: Uint8Array } {
    const step = this.requireStepper().current;
    if (!step) throw new InspectorError('no current step to export: step forward first');
    const shape = [...step.tensor.shape];
    const bytes = format === 'npy' ? encodeNpy(shape, step.tensor.data) : encodeTensorJson(step.name, step.dims, shape, step.tensor.data);
    return { kind: 'exported', name: step.name, shape, bytes };
  }

  /**
   * The parameter breakdown of a config by analysis (exact; no model needed, so a config too large to
   * run has one too), with the loaded model's own count beside it when it is this config.
   */
  params(configPath?: string): ParamsInfo {
    if (this.traced && (configPath === undefined || configPath === this.traced.trace.path)) return paramsInfo(this.traced.analysis, undefined);
    const file = findConfig(configPath ?? this.require().configPath);
    const loaded = this.loaded?.configPath === file ? this.loaded : undefined;
    // A GGUF's config is its llama.* metadata, mapped as loading maps it.
    const analysis = file.toLowerCase().endsWith('.gguf') ? analyzeConfig(ggufLlamaConfig(GgufFile.open(file)) as JsonValue, { file }) : analyzeFile(file);
    return paramsInfo(
      analysis,
      loaded && { count: loaded.model.parameterCount(), weights: loaded.weightsPath ?? loaded.model.weightsDescription },
    );
  }

  /** Compute forward until `done()` holds or the pass ends; false if cancelled first. */
  private computeUntil(done: () => boolean, control: Control): boolean {
    const s = this.requireStepper();
    const cursor = s.index;
    while (!done() && !s.done) {
      if (control.cancelled()) return false;
      const at = s.steps.length;
      s.goTo(at); // computes one step (and moves the cursor there)
      const name = s.steps[at]?.name;
      const spec = this.require().spec;
      if (name) control.progress(`Computing ${stepProgress(name, at, spec.numLayers, spec.numDecoderLayers)}`);
    }
    // Computing moved the cursor; put it back so the caller decides where it lands.
    if (cursor < 0) s.reset();
    else s.goTo(cursor);
    return true;
  }

  private precomputeIfCheap(control: Control): void {
    const loaded = this.require();
    if (this.traced) {
      // Every recorded step is known from the headers; only the ones shown are read from disk.
      this.computeUntil(() => false, control);
      return;
    }
    const tokens = (this.input?.ids.length ?? 0) + (this.input?.decoderIds?.length ?? 0);
    if (2 * loaded.model.parameterCount() * tokens > EAGER_FLOP_BUDGET) return;
    // Cancelling here only leaves the rest of the pass to be computed lazily.
    this.computeUntil(() => false, control);
  }

  private restart(): void {
    const loaded = this.require();
    const input = this.input as InputIds;
    this.generation = undefined; // a new input or model: the KV cache is of the old one
    this.shown = undefined;
    if (this.traced) {
      this.stepper = new Stepper(replayTrace(this.traced.trace));
      return;
    }
    if (this.patched) {
      this.stepper = new Stepper(this.patched.trace());
      return;
    }
    // Within the budget: every layer's input residual is kept, a layer's other steps are recomputed when read.
    const forward = { ids: [input.ids], ...(input.decoderIds ? { decoderIds: [input.decoderIds] } : {}) };
    this.stepper = new Stepper(boundedForward(loaded.model, forward, this.memoryBudget).trace);
  }

  private position(): Position {
    const s = this.requireStepper();
    const step = s.current;
    if (!step) return { kind: 'before', computed: s.steps.length, done: s.done };
    return { kind: 'step', step: this.stepInfo(step, s.index) };
  }

  private stepInfo(step: Step, index: number): StepInfo {
    const s = this.requireStepper();
    const spec = this.require().spec;
    const reduced = this.reduce(step);
    return {
      index,
      computed: s.steps.length,
      done: s.done,
      name: step.name,
      breadcrumb: breadcrumb(step.name, spec.architecture),
      dims: [...step.dims],
      shape: [...step.tensor.shape],
      explanation: explain(step.name, spec, this.terms),
      view: reduced.view,
      stats: reduced.stats,
      ...(step.name === 'logits' && step.dims[step.dims.length - 1] === 'd_vocab' ? { predictions: this.predictions(step) } : {}),
      ...(this.patched ? { patched: this.patched.label } : {}),
    };
  }

  /** Top-k per position; the targets are the next input token (decoder side for encoder-decoders). */
  private predictions(step: Step) {
    const { spec, tokenizer } = this.require();
    const input = this.patched?.input ?? (this.input as InputIds);
    const label = (id: number) => (tokenizer ? tokenizer.label(id) : String(id));
    const side = spec.architecture === 'encoder-decoder' ? (input.decoderIds ?? []) : input.ids;
    // An encoder (masked LM) predicts each position's own token, not the next one: no loss is claimed.
    const targets = spec.architecture === 'encoder' ? [] : this.shown !== undefined ? [side[this.shown + 1]] : nextTokenTargets(side);
    return predictionsView(step.tensor, label, targets);
  }

  private reduce(step: Step): Reduced {
    const { queries, keys, rows } = this.positionLabels(step.name);
    if (isAttentionHook(step.name)) return attentionView(step.tensor, step.mask, queries, keys);
    const reduced = matrixView(step.tensor, step.dims, rows);
    const tokenizer = this.require().tokenizer;
    if (tokenizer && reduced.view.kind === 'matrix' && step.dims[step.dims.length - 1] === 'd_vocab') {
      reduced.view.colLabels = reduced.view.colIndex.map((id) => tokenizer.label(id));
    }
    return reduced;
  }

  /** Token labels along each position axis of a step: decoder-side steps use the decoder tokens. */
  private positionLabels(name: string): { queries: string[]; keys: string[]; rows: string[] } {
    const info = this.patched ? { ...this.modelInfo(), tokens: this.patched.input.ids.map((id) => this.require().tokenizer?.label(id) ?? String(id)) } : this.modelInfo();
    const decoderSide = info.architecture === 'encoder-decoder' && (name.startsWith('decoder.') || name === 'logits');
    const side = decoderSide ? (info.decoderTokens ?? []) : info.tokens;
    const cross = name.includes('.cross_attn.');
    const keyTokens = cross ? info.tokens : side;
    const kvStep = /\.hook_(k|v|rot_k)$/.test(name);
    // Latent-bottleneck attention: latents query the tokens, then the tokens query the latents.
    if (name.includes('.to_latents.')) return { queries: [], keys: side, rows: kvStep ? side : [] };
    if (name.includes('.from_latents.')) return { queries: side, keys: [], rows: kvStep ? [] : side };
    // A trace that kept some positions holds those along pos / query_pos; key_pos stays whole.
    // A generated position traced alone: its one query over the keys up to it.
    if (this.shown !== undefined) return { queries: [side[this.shown]], keys: side.slice(0, this.shown + 1), rows: [side[this.shown]] };
    const kept = this.traced?.trace.manifest.positions;
    if (kept && !decoderSide) return { queries: kept.map((p) => side[p]), keys: keyTokens, rows: kept.map((p) => side[p]) };
    return { queries: side, keys: keyTokens, rows: cross && kvStep ? info.tokens : side };
  }

  private modelInfo(): ModelInfo {
    if (this.traced) return traceModelInfo(this.traced);
    const { configPath, spec, model, weightsPath, tokenizer, streaming } = this.require();
    const input = this.input as InputIds;
    const label = (id: number) => (tokenizer ? tokenizer.label(id) : String(id));
    return {
      configPath,
      family: spec.family,
      architecture: spec.architecture,
      weights: (weightsPath ?? model.weightsDescription) + (streaming ? ` (streamed layer by layer: ${formatBytes(streaming.weightBytes())} of fp32 weights, ${formatBytes(streaming.budgetBytes)} budget)` : ''),
      seeded: model.seeded,
      tokens: input.ids.map(label),
      ...(input.decoderIds ? { decoderTokens: input.decoderIds.map(label), decoderIds: [...input.decoderIds] } : {}),
      ids: [...input.ids],
      ...this.inputText,
      parameterCount: model.parameterCount(),
      unusedWeights: [...model.unusedWeights],
      computedBuffers: [...model.computedBuffers],
    };
  }

  private stepSummaries(): StepSummary[] {
    return this.requireStepper().steps.map((s) => ({ name: s.name, shape: [...s.tensor.shape] }));
  }

  private require(): LoadedModel {
    if (!this.loaded) throw new InspectorError('no model is loaded: open a config first');
    return this.loaded;
  }

  private requireStepper(): Stepper {
    this.require();
    return this.stepper as Stepper;
  }
}

export function inputLimits(loaded: LoadedModel): InputLimits {
  const spec = loaded.spec;
  return {
    architecture: spec.architecture,
    vocabSize: spec.vocabSize,
    decoderVocabSize: spec.tgtVocabSize,
    maxLen: spec.maxLen,
    ...(loaded.tokenizer ? { tokenizer: loaded.tokenizer.file } : {}),
  };
}

/** Ids 1, 2, … or, with a tokenizer, DEFAULT_TEXT when its ids fit the model. */
export function defaultInput(limits: InputLimits, loaded?: LoadedModel): InputIds {
  const n = Math.min(DEFAULT_INPUT_LENGTH, limits.maxLen);
  const count = (vocab: number) => Array.from({ length: n }, (_, i) => (i + 1) % vocab);
  const fromText = loaded?.tokenizer?.encode(DEFAULT_TEXT).ids;
  const fits = (ids: number[] | undefined, vocab: number): ids is number[] => !!ids && ids.length > 0 && ids.length <= limits.maxLen && ids.every((id) => id < vocab);
  const ids = fits(fromText, limits.vocabSize) ? fromText : count(limits.vocabSize);
  if (limits.architecture !== 'encoder-decoder') return { ids };
  return { ids, decoderIds: fits(fromText, limits.decoderVocabSize) ? fromText : count(limits.decoderVocabSize) };
}

/** Ids from what the user gave: ids as they are, text through the tokenizer beside the config. */
export function resolveInput(loaded: LoadedModel, input: InputRequest): InputIds {
  const side = (ids: number[] | undefined, text: string | undefined, what: string): number[] | undefined => {
    if (ids !== undefined && text !== undefined) throw new InspectorError(`${what}: give ids or text, not both`);
    if (text === undefined) return ids;
    if (!loaded.tokenizer) throw new InspectorError(`${what}: text needs a tokenizer.json beside the config; give token ids instead`, { file: loaded.configPath });
    const encoded = loaded.tokenizer.encode(text).ids;
    if (encoded.length === 0) throw new InspectorError(`${what}: the text tokenizes to no tokens`);
    return encoded;
  };
  const ids = side(input.ids, input.text, 'input');
  if (!ids) throw new InspectorError('input: give token ids or text');
  const decoderIds = side(input.decoderIds, input.decoderText, 'decoder input');
  return decoderIds ? { ids, decoderIds } : { ids };
}

/** The text of each side of an input given as text. */
function textOf(input: InputRequest): { text?: string; decoderText?: string } {
  return { ...(input.text !== undefined ? { text: input.text } : {}), ...(input.decoderText !== undefined ? { decoderText: input.decoderText } : {}) };
}

/** DEFAULT_TEXT when the default input is its tokens. */
function defaultText(input: InputIds, loaded: LoadedModel): { text?: string } {
  const ids = loaded.tokenizer?.encode(DEFAULT_TEXT).ids;
  return ids && ids.length === input.ids.length && ids.every((id, i) => id === input.ids[i]) ? { text: DEFAULT_TEXT } : {};
}

/** The same checks the host makes while the user types, repeated here because the worker trusts no one. */
export function checkInput(input: InputIds, limits: InputLimits): void {
  const side = (ids: unknown, vocab: number, what: string) => {
    if (!Array.isArray(ids) || ids.length === 0) throw new InspectorError(`${what}: give at least one token id`);
    if (ids.length > limits.maxLen) throw new InspectorError(`${what}: ${ids.length} tokens is more than max_len (${limits.maxLen})`);
    ids.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new InspectorError(`${what}: id ${String(id)} at position ${t} is outside the vocabulary (0 … ${vocab - 1})`);
      }
    });
  };
  side(input.ids, limits.vocabSize, 'input ids');
  if (limits.architecture === 'encoder-decoder') {
    side(input.decoderIds, limits.decoderVocabSize, 'decoder ids');
  } else if (input.decoderIds !== undefined) {
    throw new InspectorError('decoder ids apply only to encoder-decoder models');
  }
}

/**
 * The input as text after generating: the text it had plus the new tokens' labels, or all ids decoded —
 * the first that tokenizes back to exactly these ids (else the input stays ids).
 */
function roundTripText(loaded: LoadedModel, before: string | undefined, ids: number[], from: number): { text?: string } {
  const tokenizer = loaded.tokenizer;
  if (!tokenizer) return {};
  const candidates = [...(before !== undefined ? [before + ids.slice(from).map((id) => tokenizer.label(id)).join('')] : []), tokenizer.decode(ids)];
  const same = (text: string) => {
    const again = tokenizer.encode(text).ids;
    return again.length === ids.length && again.every((id, i) => id === ids[i]);
  };
  const text = candidates.find(same);
  return text !== undefined ? { text } : {};
}

function withTransfer(reply: Loaded | Moved | Generated): { reply: WorkerReply; transfer: ArrayBuffer[] } {
  const step = reply.position.kind === 'step' ? reply.position.step : undefined;
  const transfer: ArrayBuffer[] = [];
  if (step) {
    transfer.push(step.view.data.buffer as ArrayBuffer);
    if (step.view.kind === 'attention' && step.view.mask) transfer.push(step.view.mask.buffer as ArrayBuffer);
  }
  return { reply, transfer };
}
