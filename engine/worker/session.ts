import { InspectorError } from '../errors';
import { loadModel, type LoadedModel } from '../model/load';
import { Stepper } from '../trace/stepper';
import { boundedForward } from '../trace/store';
import type { ModelInfo, ParamsInfo } from '../../protocol/webview';
import { poolHeads } from './views';
import { explainTerms, type ExplainTerms } from './explain';
import { exportStep } from './export';
import { modelTree, type ModelNode } from './tree';
import { descriptionTree } from './description-tree';
import { configParams, paramsInfo } from './params';
import { defaultMemoryBudget } from '../model/memory-budget';
import { checkBudget, checkWholeTrace } from './budget';
import { isTracePath } from '../tracefile/reader';
import { replayTrace } from '../tracefile/replay';
import { absentHookError, openTrace, traceModelInfo, type OpenedTrace } from '../tracefile/session';
import type { AttentionWindow, Comparison, Exported, Generated, GenerateSampling, InputIds, InputRequest, Loaded, Move, Moved, Overview, Position, StepSummary, Tokenized, WorkerReply, WorkerRequest } from '../../protocol/worker';
import type { AnalysisReply } from '../../protocol/analyses';
import { analysisView } from '../analyses/views';
import { QuantSession } from './quant-session';
import type { QuantizeSpec } from '../../protocol/quant';
import { attentionWindow } from './attention-window';
import { compareInputs } from './compare-view';
import { checkComparisonBudget, chooseComparer, type ModelComparer } from './model-compare';
import { patchedRun, type PatchedRun } from './patched-run';
import { Generation, replay, type TracedPosition } from './generation';
import { stepProgress } from './layer-progress';
import { NO_CONTROL, type Control } from './control';
import { checkInput, defaultInput, defaultText, inputLimits, resolveInput, roundTripText, textOf } from './inputs';
import { modelInfo, position, positionLabels, stepSummaries, type SessionView } from './session-views';
import { handleRequest, type RequestFields, type SessionRequests } from './session-requests';

// What tests, scripts and the worker entry import from here; each lives in its own module.
export { NO_CONTROL, type Control } from './control';
export { DEFAULT_INPUT_LENGTH, DEFAULT_TEXT, checkInput, defaultInput, inputLimits, resolveInput } from './inputs';


/**
 * Forward passes computed on load when they are this cheap (about 2 · parameters · tokens
 * multiply-adds): then the panel knows every step from the start. Larger models compute lazily.
 */
export const EAGER_FLOP_BUDGET = 2e8;

/**
 * One inspected model in the worker: the loaded model, its input and a stepper over its forward
 * pass. Every request is answered synchronously; long ones check `control` between steps.
 */
export class Session implements SessionRequests {
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
    return handleRequest(this, req, control);
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


  /** An analysis of the loaded model on the current input (engine/analyses/views.ts). */
  analyse(req: RequestFields<'analyse'>): { reply: AnalysisReply; transfer: ArrayBuffer[] } {
    const loaded = this.require();
    const input = this.input!;
    checkWholeTrace(loaded.spec, input, this.memoryBudget, 'this analysis');
    return analysisView(loaded, { ids: [input.ids], decoderIds: input.decoderIds && [input.decoderIds] }, req.request);
  }

  /** The current input against another through the loaded model, at one hook. */
  compare(req: RequestFields<'compare'>): Comparison {
    return compareInputs(this.require(), this.input!, req.input, req.hook, this.modelInfo().tokens, this.memoryBudget);
  }

  /** The current input through the loaded model and another one (or the quantized copy), at one hook. */
  compareModel(req: RequestFields<'compareModel'>): Comparison {
    const loaded = this.require();
    if (this.traced) throw new InspectorError('a recorded trace has no model to run on another checkpoint: open the model itself', { file: this.traced.trace.path });
    checkComparisonBudget(loaded, this.input!, this.memoryBudget);
    this.comparer = chooseComparer(this.comparer, loaded, req.with, this.quant, { memoryBudget: this.weightBudget, activationBudget: this.memoryBudget });
    const label = (id: number) => (loaded.tokenizer ? loaded.tokenizer.label(id) : String(id));
    return this.comparer.compare(this.input!, req.hook, this.modelInfo().tokens, label);
  }

  /** Step through a patching cell's patched run, at the patched hook. */
  patchedStep(req: RequestFields<'patchedStep'>, control: Control): Moved {
    const loaded = this.require();
    if (this.traced) throw new InspectorError('a recorded trace cannot be patched: open the model itself', { file: this.traced.trace.path });
    const run = patchedRun(loaded, this.input!, req.corrupted, req.what, req.layer, req.col);
    checkInput(run.input, inputLimits(loaded));
    this.patched = run;
    this.restart();
    return this.move({ to: 'hook', name: run.label.hook }, control);
  }

  /** Back from a patched run to the input's own pass, at the same hook. */
  unpatch(control: Control): Moved {
    const at = this.stepper?.current?.name;
    this.patched = undefined;
    this.restart();
    return at ? this.move({ to: 'hook', name: at }, control) : this.move({ to: 'start' }, control);
  }

  /** The visible window of one head of the current attention step. */
  attentionWindow(req: RequestFields<'attentionWindow'>): AttentionWindow {
    const step = this.requireStepper().current;
    if (!step) throw new InspectorError('no current step: step to an attention pattern first');
    return attentionWindow(step.name, step.tensor, step.mask, req.head, req.window, req.cells);
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
    const { rows, queries } = positionLabels(this.view(), step.name);
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

  exportCurrent(format: 'npy' | 'json'): Exported {
    const step = this.requireStepper().current;
    if (!step) throw new InspectorError('no current step to export: step forward first');
    return exportStep(step, format);
  }

  /**
   * The parameter breakdown of a config by analysis (exact; no model needed, so a config too large to
   * run has one too), with the loaded model's own count beside it when it is this config.
   */
  params(configPath?: string): ParamsInfo {
    if (this.traced && (configPath === undefined || configPath === this.traced.trace.path)) return paramsInfo(this.traced.analysis, undefined);
    return configParams(configPath ?? this.require().configPath, this.loaded);
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

  /** The state the views read (engine/worker/session-views.ts). */
  private view(): SessionView {
    return {
      loaded: this.require(),
      input: this.input as InputIds,
      inputText: this.inputText,
      stepper: this.stepper as Stepper,
      terms: this.terms,
      traced: this.traced,
      patched: this.patched,
      shown: this.shown,
    };
  }

  private position(): Position {
    return position(this.view());
  }

  private modelInfo(): ModelInfo {
    return this.traced ? traceModelInfo(this.traced) : modelInfo(this.view());
  }

  private stepSummaries(): StepSummary[] {
    return stepSummaries(this.requireStepper());
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
