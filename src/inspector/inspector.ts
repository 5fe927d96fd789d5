import * as path from 'node:path';
import * as vscode from 'vscode';
import { isHfConfigName, isNativeConfigPath } from '../config/recognise';
import { isRegularFile } from '../../engine/io/guarded';
import { EngineError, type EngineClient } from '../engine/client';
import type { Generated, InputLimits, InputRequest, Loaded, Move, Moved, Position, StepSummary, Tokenized, WorkerRequest } from '../../protocol/worker';
import type { ModelNode } from '../../protocol/tree';
import type { AblationSetMessage, AttentionOverview, GenerationInfo, ModelInfo, PanelState, PanelTab, ParamsInfo, ToWebview } from '../../protocol/webview';
import { generateTitle, type GenerateArgs } from './generate';
import type { QuantReport, QuantizeSpec } from '../../protocol/quant';
import { QuantComparison, quantizeTitle } from './quantization';
import { InspectorPanel } from '../panel/panel';
import { CONTEXT } from '../ids';
import type { Log } from '../log';
import { isRemembered, memoryKey, type Remembered } from './memory';
import { renderQuantizeReport } from '../quantize/report';
import { analysisTitle, resolveAnalysis } from './analyses';
import { saveAnalysisAnswer, type AnalysisAnswer } from './analysis-save';
import { askTarget, compareRequest, compareTitle, OpenComparison, targetOfArgument } from './compare-with';
import { AblationSet, partLabel, partOfNode } from './ablation-set';
import type { InspectorState } from './inspector-state';
import { moveTitle, track } from './progress';
import { announceRestart, failureOf, type Failure } from './failures';
import { routeWebviewMessage, type WebviewMessage, type WebviewRoutes } from './webview-router';

export type { InspectorState } from './inspector-state';

/**
 * One inspection session: the config shown in the panel, the model in the engine worker, the
 * cursor in its forward pass. Commands, the webview and the sidebar all act through it; operations
 * run one at a time, in the order they were asked for.
 */
export class Inspector implements vscode.Disposable, WebviewRoutes {
  private panel: InspectorPanel | undefined;
  private configPath: string | undefined;
  /** Configs this host opened (commands, startup, restore): the only paths a webview message may name. */
  private readonly issued = new Set<string>();
  private loaded: { model: ModelInfo; tree: ModelNode; limits: InputLimits } | undefined;
  private steps: StepSummary[] = [];
  private position: Position | undefined;
  /** The input to load with: as the user gave it (text or ids), so the box shows it again. */
  private input: InputRequest | undefined;
  private params: ParamsInfo | undefined;
  private overview: AttentionOverview | undefined;
  /** The last answer of each analysis for this input (what Export writes). */
  private readonly analyses = new Map<string, AnalysisAnswer>();
  private failure: Failure | undefined;
  /** The worker was restarted: the model must be loaded again before the next request. */
  private stale = false;
  private tab: PanelTab = 'step';
  /** The quantization report while the engine keeps the quantized model, and the current hook compared. */
  private readonly quant: QuantComparison;
  /** Compare With…'s open comparison, re-asked at every step. */
  private readonly comparison = new OpenComparison();
  /** What Ablation removes: chosen in the sidebar tree and the detector grid. */
  readonly ablation = new AblationSet();
  /** The tokens Generate Next Token appended to this input (until it is set or loaded again). */
  private generation: GenerationInfo | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: EngineClient,
    private readonly log: Log,
    /** Where the input and step of each config are kept across reopen and reload (workspaceState). */
    private readonly memory?: vscode.Memento,
  ) {
    this.quant = new QuantComparison(client, log, (m) => this.post(m), () => this.fireChanged());
    this.disposables.push(
      this.changed,
      this.client.onRestart((reason, message) => this.onEngineRestart(reason, message)),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (this.configPath && doc.uri.fsPath === this.configPath && this.panel) void this.reload('config saved');
      }),
    );
    void this.updateContext();
  }

  get state(): InspectorState {
    const step = this.position?.kind === 'step' ? this.position.step : undefined;
    return {
      configPath: this.configPath,
      panelOpen: this.panel !== undefined,
      modelLoaded: this.loaded !== undefined,
      model: this.loaded?.model,
      tree: this.loaded?.tree,
      limits: this.loaded?.limits,
      steps: this.steps,
      stepName: step?.name,
      stepIndex: step?.index ?? -1,
      atEnd: step !== undefined && step.done && step.index === step.computed - 1,
      failure: this.failure?.message,
      quant: this.quant.report,
      generation: this.generation,
      quantStep: this.quant.stepState(),
      ...(this.comparison.shown && { comparison: this.comparison.shown }),
      ...(step?.patched && { patched: step.patched }),
      ablation: this.ablation.choice(),
    };
  }

  /** The panel, for the test API. */
  get currentPanel(): InspectorPanel | undefined {
    return this.panel;
  }

  /** Resolves when every queued operation has finished. */
  idle(): Promise<void> {
    return this.queue.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Show a config in the panel (creating it beside the editor) and load its model. */
  open(configPath: string, restore?: PanelState): Promise<void> {
    this.issued.add(configPath);
    return this.enqueue(async () => {
      this.ensurePanel().reveal();
      if (this.configPath !== configPath) {
        this.loaded = undefined;
        this.position = undefined;
        this.steps = [];
        this.input = undefined;
        this.params = undefined;
        this.ablation.clear(); // the parts of another model
      }
      const remembered = this.remembered(configPath);
      if (!this.input && remembered?.input) this.input = remembered.input;
      this.configPath = configPath;
      if (restore?.tab) this.tab = restore.tab;
      (this.panel as InspectorPanel).title = `Inspector: ${path.basename(configPath)}`;
      await this.load(restore?.stepIndex ?? remembered?.stepIndex);
    });
  }

  /** Take over a panel VS Code restored after a reload, and show what its saved state names. */
  adoptPanel(webviewPanel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    this.panel?.dispose();
    this.attach(InspectorPanel.adopt(webviewPanel, this.extensionUri, this.log, (m) => routeWebviewMessage(this, m)));
    // A saved state is the webview's: reopen only a regular file that is a config by its name.
    if (state?.configPath && restorable(state.configPath)) return this.open(state.configPath, state);
    if (state?.configPath) this.log.warn(`not reopening a saved panel's config (not a config file here): ${state.configPath.slice(0, 200)}`);
    this.post({ type: 'empty', message: 'Open a *.transformer.json or a Hugging Face config.json to inspect it.' });
    return Promise.resolve();
  }

  setInput(input: InputRequest): Promise<void> {
    return this.enqueue(async () => {
      if (!(await this.ensureModel())) return;
      const at = this.position?.kind === 'step' ? this.position.step.name : undefined;
      try {
        const r = await this.track('Setting the input', { kind: 'setInput', input });
        this.applyLoaded(r);
        // The stepper stays at the hook it was on: the same pass, over the new tokens.
        if (at) this.applyMoved(await this.track(`Computing up to ${at}`, { kind: 'move', move: { to: 'hook', name: at } }));
      } catch (e) {
        this.fail(e, 'the input'); // an input the model refuses is not the config's fault
      }
    });
  }

  /**
   * Text through the loaded model's tokenizer, for the input box while the user types. Not queued
   * behind other operations (the worker answers in order anyway); undefined when there is no model.
   */
  async tokenize(text: string): Promise<Tokenized | undefined> {
    if (!this.loaded?.limits.tokenizer || this.stale) return undefined;
    return this.client.request({ kind: 'tokenize', text });
  }

  move(move: Move): Promise<void> {
    return this.enqueue(async () => {
      if (!(await this.ensureModel())) return;
      try {
        const r = await this.track(moveTitle(move), { kind: 'move', move });
        this.applyMoved(r);
      } catch (e) {
        this.fail(e);
      }
    });
  }

  /**
   * Generate Next Token (src/inspector/generate.ts), or walk an earlier generated position again: the
   * input grows by the tokens, the stepper walks the new position at the hook it was on.
   */
  generate(what: GenerateArgs | { position: number }): Promise<void> {
    return this.enqueue(async () => {
      if (!(await this.ensureModel())) return;
      const at = this.position?.kind === 'step' ? { at: this.position.step.name } : {};
      try {
        const r =
          'position' in what
            ? await this.track(`Tracing generated position ${what.position}`, { kind: 'showGenerated', position: what.position, ...at })
            : await this.track(generateTitle(what), { kind: 'generate', count: what.count, sampling: what.sampling, ...at });
        this.applyGenerated(r);
      } catch (e) {
        this.fail(e, 'generation');
      }
    });
  }

  /**
   * Show a step in the panel from outside it (the sidebar): the Step tab, at that hook, and at a
   * head when one is named.
   */
  showStep(move: Move, head?: number): Promise<void> {
    this.tab = 'step';
    this.panel?.reveal();
    this.post({ type: 'showTab', tab: 'step' });
    if (head !== undefined) this.post({ type: 'selectHead', head });
    return this.move(move);
  }

  /**
   * Quantize the loaded model in the engine (kept beside the float one until the next load), show the
   * report in the Quantization tab, and the current hook float vs quantized from then on.
   */
  quantize(spec: QuantizeSpec): Promise<QuantReport | undefined> {
    return this.enqueue(async () => {
      if (!(await this.ensureModel())) return undefined;
      try {
        const r = await this.track(quantizeTitle(spec), { kind: 'quantize', spec });
        this.quant.accept(r.report);
        this.post({ type: 'quant', report: r.report });
        this.tab = 'quant';
        this.post({ type: 'showTab', tab: 'quant' });
        if (this.position?.kind !== 'step') this.applyMoved(await this.track('Computing the first step', { kind: 'move', move: { to: 'next' } }));
        else await this.quant.refresh(this.position, this.stale);
        // The same report as Markdown in the output channel: a record of each quantization to copy from.
        this.log.info(`quantized:\n${renderQuantizeReport(this.configPath as string, r.report)}`);
        this.fireChanged();
        return r.report;
      } catch (e) {
        this.fail(e, 'quantization');
        return undefined;
      }
    });
  }

  /** Write the current step's whole tensor to `target` (.npy unless it ends in .json). */
  exportTensor(target: vscode.Uri): Promise<{ name: string; shape: number[] } | undefined> {
    return this.enqueue(async () => {
      if (!(await this.ensureModel())) return undefined;
      if (this.position?.kind !== 'step') {
        void vscode.window.showInformationMessage('Transformer Inspector: step forward first; there is no current tensor to export.');
        return undefined;
      }
      const format = target.path.toLowerCase().endsWith('.json') ? 'json' : 'npy';
      try {
        const r = await this.track('Exporting the tensor', { kind: 'export', format });
        await vscode.workspace.fs.writeFile(target, r.bytes);
        this.log.info(`exported ${r.name} [${r.shape.join(', ')}] as ${format} to ${target.fsPath}`);
        return { name: r.name, shape: r.shape };
      } catch (e) {
        this.fail(e);
        return undefined;
      }
    });
  }

  /** Show the parameter breakdown tab. */
  showParameters(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.configPath) {
        void vscode.window.showInformationMessage('Transformer Inspector: open a config first.');
        return;
      }
      this.ensurePanel().reveal();
      this.tab = 'params';
      await this.sendParams();
      this.post({ type: 'showTab', tab: 'params' });
    });
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }

  // ---- webview ------------------------------------------------------------------------------

  webviewReady(state: PanelState | undefined): Promise<void> {
    // A restored panel names its config; a reloaded one gets what the host already has.
    // The webview's word is no path to open: only a config this host opened before is accepted.
    if (!this.configPath && state?.configPath) {
      if (this.issued.has(state.configPath)) return this.open(state.configPath, state);
      this.log.warn(`ignored a webview 'ready' naming a config this window did not open: ${state.configPath.slice(0, 200)}`);
    }
    this.sendSnapshot();
    return Promise.resolve();
  }

  /** The webview selected a head: it keeps it in its own saved state; the quantized comparison follows it. */
  selectHead(head: number): Promise<void> {
    return this.quant.selectHead(head, this.position, this.stale);
  }

  async selectTab(tab: PanelTab): Promise<void> {
    this.tab = tab;
    if (tab === 'params') await this.enqueue(() => this.sendParams());
  }

  closeComparison(): void {
    this.comparison.close();
    this.fireChanged();
  }

  /** The parts the detector grid chose for ablation. */
  replaceAblation(choice: AblationSetMessage): void {
    if (this.ablation.replace(choice)) this.fireChanged();
  }

  requestOverview(): Promise<void> {
    return this.enqueue(() => this.sendOverview());
  }

  requestAnalysis(msg: WebviewMessage<'analyse'>): Promise<void> {
    return this.enqueue(() => this.sendAnalysis(msg));
  }

  requestAttentionWindow(msg: WebviewMessage<'requestAttentionWindow'>): Promise<void> {
    return this.enqueue(() => this.sendAttentionWindow(msg));
  }

  /** Everything the panel shows, again (after the webview (re)loaded). */
  private sendSnapshot(): void {
    if (!this.configPath) {
      this.post({ type: 'empty', message: 'Open a *.transformer.json or a Hugging Face config.json to inspect it.' });
      return;
    }
    if (this.loaded) {
      this.post({ type: 'model', model: this.loaded.model, steps: this.steps });
      this.postPosition();
    }
    if (this.params) this.post({ type: 'params', params: this.params });
    if (this.overview && this.loaded) this.post({ type: 'overview', overview: this.overview });
    if (this.quant.report && this.loaded) this.post({ type: 'quant', report: this.quant.report });
    if (this.quant.step && this.loaded) this.post({ type: 'quantStep', step: this.quant.step });
    if (this.ablation.size) this.post({ type: 'ablation', ...this.ablation.choice() });
    if (this.generation && this.loaded) this.post({ type: 'generation', generation: this.generation });
    if (this.failure) this.post({ type: 'error', ...this.failure });
    else if (!this.loaded) this.post({ type: 'busy', message: `Loading ${path.basename(this.configPath)}…` });
    if (this.tab !== 'step') this.post({ type: 'showTab', tab: this.tab });
  }

  private ensurePanel(): InspectorPanel {
    if (!this.panel) this.attach(InspectorPanel.create(this.extensionUri, this.log, (m) => routeWebviewMessage(this, m)));
    return this.panel as InspectorPanel;
  }

  private attach(panel: InspectorPanel): void {
    this.panel = panel;
    panel.onDidDispose(() => {
      if (this.panel !== panel) return;
      // Closing the panel ends the session; the worker keeps nothing the user can reach.
      this.panel = undefined;
      this.configPath = undefined;
      this.loaded = undefined;
      this.position = undefined;
      this.steps = [];
      this.input = undefined; // kept in the workspace state for the next open
      this.params = undefined;
      this.failure = undefined;
      this.quant.drop();
      this.tab = 'step';
      this.fireChanged();
    });
    this.fireChanged();
  }

  private post(msg: ToWebview): void {
    this.panel?.post(msg);
  }

  private postPosition(): void {
    const p = this.position;
    if (!p) return;
    this.post(p.kind === 'step' ? { type: 'step', step: p.step } : { type: 'beforeFirstStep', computed: p.computed, done: p.done });
  }

  // ---- engine -------------------------------------------------------------------------------

  private async load(stepIndex?: number): Promise<void> {
    const configPath = this.configPath as string;
    this.failure = undefined;
    // A load builds the model afresh in the engine: the quantized one is gone.
    if (this.quant.report) {
      this.quant.drop();
      this.post({ type: 'quant' });
      if (this.tab === 'quant') this.tab = 'step';
    }
    this.post({ type: 'busy', message: `Loading ${path.basename(configPath)}…` });
    try {
      let r: Loaded;
      try {
        r = await this.track(`Loading ${path.basename(configPath)}`, { kind: 'load', configPath, ...(this.input ? { input: this.input } : {}) });
      } catch (e) {
        // The kept input may not fit an edited config: fall back to the default input once.
        if (!(e instanceof EngineError && e.kind === 'user' && this.input)) throw e;
        this.input = undefined;
        r = await this.track(`Loading ${path.basename(configPath)}`, { kind: 'load', configPath });
      }
      this.applyLoaded(r);
      if (r.model.seeded) this.log.info(`${configPath}: no weights beside the config; running on ${r.model.weights}`);
      if (stepIndex !== undefined && stepIndex >= 0) {
        this.applyMoved(await this.track('Restoring the step', { kind: 'move', move: { to: 'index', index: stepIndex } }));
      }
      if (this.tab === 'params') {
        await this.sendParams();
        this.post({ type: 'showTab', tab: 'params' });
      }
    } catch (e) {
      this.loaded = undefined;
      this.position = undefined;
      this.steps = [];
      this.fail(e);
      // A model that cannot run (too large, a family the engine does not build) still has its analysis.
      if (e instanceof EngineError && e.kind === 'user' && (await this.sendParams())) this.post({ type: 'showTab', tab: 'params' });
    }
  }

  /** Load the current config again (after a save or an engine restart), keeping input and step. */
  private reload(why: string): Promise<void> {
    return this.enqueue(async () => {
      if (!this.configPath) return;
      this.log.info(`reloading ${this.configPath} (${why})`);
      const index = this.position?.kind === 'step' ? this.position.step.index : undefined;
      this.params = undefined;
      await this.load(index);
    });
  }

  /** A loaded, current model for the next request: reloads after an engine restart. */
  private async ensureModel(): Promise<boolean> {
    if (!this.configPath) {
      void vscode.window.showInformationMessage('Transformer Inspector: open a config first (Transformer Inspector: Open Inspector).');
      return false;
    }
    if (this.stale) {
      this.stale = false;
      const index = this.position?.kind === 'step' ? this.position.step.index : undefined;
      await this.load(index);
    }
    if (!this.loaded) {
      if (this.failure) void vscode.window.showWarningMessage(`Transformer Inspector: ${this.failure.message}`);
      return false;
    }
    return true;
  }

  private applyLoaded(r: Loaded): void {
    this.overview = undefined;
    this.comparison.close(); // the panel drops it with the new model message
    this.analyses.clear();
    if (this.generation) this.post({ type: 'generation' }); // a new input or model: the engine dropped its KV cache
    this.generation = undefined;
    this.loaded = { model: r.model, tree: r.tree, limits: r.limits };
    this.steps = r.steps;
    this.position = r.position;
    this.input = {
      ...(r.model.text !== undefined ? { text: r.model.text } : { ids: r.model.ids }),
      ...(r.model.decoderText !== undefined ? { decoderText: r.model.decoderText } : r.model.decoderIds ? { decoderIds: r.model.decoderIds } : {}),
    };
    this.failure = undefined;
    this.stale = false;
    this.post({ type: 'model', model: r.model, steps: r.steps });
    this.postPosition();
    this.remember();
    this.fireChanged();
    void this.quant.refresh(this.position, this.stale);
  }

  /** The input grew by generated tokens; the steps are of one position (the engine keeps the KV cache). */
  private applyGenerated(r: Generated): void {
    this.overview = undefined;
    this.analyses.clear();
    if (this.loaded) this.loaded = { ...this.loaded, model: r.model };
    this.steps = r.steps;
    this.position = r.position;
    this.input = r.model.text !== undefined ? { text: r.model.text } : { ids: r.model.ids };
    this.generation = r.generation;
    this.failure = undefined;
    this.post({ type: 'model', model: r.model, steps: r.steps });
    this.postPosition();
    this.post({ type: 'generation', generation: r.generation });
    this.remember();
    this.fireChanged();
  }

  private applyMoved(r: Moved): void {
    if (r.steps && this.loaded) {
      this.steps = r.steps;
      // The panel's step list grew (the pass is computed lazily for large models).
      this.post({ type: 'model', model: this.loaded.model, steps: r.steps });
    }
    this.position = r.position;
    this.failure = undefined;
    this.postPosition();
    this.remember();
    if (r.cancelled) void vscode.window.showInformationMessage('Transformer Inspector: stopped; the steps computed so far are kept.');
    this.fireChanged();
    void this.quant.refresh(this.position, this.stale);
    if (this.position.kind === 'step') {
      void this.comparison.refresh(this.position.step.name, (q) => this.client.request(q), (c) => (this.post({ type: 'comparison', comparison: c }), this.fireChanged()), (m) => this.log.info(m));
    }
  }

  /** Every attention pattern at once (computing the whole pass); kept until the input changes. */
  private async sendOverview(): Promise<void> {
    if (!(await this.ensureModel())) return;
    try {
      if (!this.overview) {
        const r = await this.track('Computing every attention pattern', { kind: 'attentionOverview' });
        this.overview = r.overview;
        if (r.steps.length !== this.steps.length && this.loaded) {
          this.steps = r.steps;
          this.post({ type: 'model', model: this.loaded.model, steps: r.steps });
          this.postPosition();
          this.fireChanged();
        }
      }
      this.post({ type: 'overview', overview: this.overview });
    } catch (e) {
      this.fail(e);
    }
  }

  /** A window of the current attention step (zoom and pan); quiet: no busy line, failures only logged. */
  private async sendAttentionWindow(msg: WebviewMessage<'requestAttentionWindow'>): Promise<void> {
    if (!this.loaded || this.stale || this.position?.kind !== 'step') return;
    try {
      const r = await this.client.request({ kind: 'attentionWindow', head: msg.head, window: msg.window, cells: msg.cells });
      const { kind: _kind, ...window } = r;
      this.post({ type: 'attentionWindow', window });
    } catch (e) {
      this.log.warn(`attention window: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Compare With…: the current run against another input, another model (a config or folder) or the
   * quantized copy, at the current hook (the logits before the first step), shown beside the step and
   * re-compared at every step until closed. `other`: text or ids for an input, `{ model: PATH }`, `{ quantized: true }`.
   */
  compareWith(other?: unknown): Promise<void> {
    return this.enqueue(async () => {
      if (!(await this.ensureModel()) || !this.loaded) return;
      const m = this.loaded.model;
      const target = targetOfArgument(other) ?? (other === undefined ? await askTarget({ text: m.text, ids: m.ids, tokenizer: !!this.loaded.limits.tokenizer }, this.quant.report) : undefined);
      if (!target) return;
      const hook = this.position?.kind === 'step' ? this.position.step.name : 'logits';
      try {
        const { kind: _kind, ...comparison } = await this.track(compareTitle(target), compareRequest(target, hook));
        this.comparison.open(target, comparison);
        this.post({ type: 'comparison', comparison });
        this.fireChanged();
      } catch (e) {
        this.fail(e);
      }
    });
  }

  /** Add a sidebar node's head, MLP or layer to the ablation set (or remove it); the panel shows the set. */
  setAblated(node: { id: string; kind: ModelNode['kind'] }, on: boolean): void {
    const part = partOfNode(node);
    if (typeof part === 'string') {
      void vscode.window.showInformationMessage(`Transformer Inspector: ${part}.`);
      return;
    }
    if (!this.ablation.set(part, on)) return;
    this.log.info(`${on ? 'added' : 'removed'} ${partLabel(part)} ${on ? 'to' : 'from'} the ablation: ${this.ablation.describe() || 'nothing'}`);
    this.post({ type: 'ablation', ...this.ablation.choice() });
    this.fireChanged();
  }

  /** Open a cell of the last patching answer as its patched run, in the Step tab at the patched hook. */
  openPatchedStep(row: number, col: number): Promise<void> {
    return this.enqueue(async () => {
      const answer = this.analyses.get('patching');
      if (!(await this.ensureModel()) || answer?.request.analysis !== 'patching') return;
      const { corrupted, what = 'resid' } = answer.request;
      try {
        const r = await this.track('Computing the patched run', { kind: 'patchedStep', corrupted, what, layer: row, col });
        this.tab = 'step';
        this.post({ type: 'showTab', tab: 'step' });
        if (what === 'heads') this.post({ type: 'selectHead', head: col });
        this.applyMoved(r);
      } catch (e) {
        this.fail(e, 'the patched run');
      }
    });
  }

  /** Back from a patched run to the input's own pass, at the same hook. */
  unpatch(): Promise<void> {
    return this.enqueue(async () => {
      if (!(await this.ensureModel())) return;
      try {
        this.applyMoved(await this.track('Back to the normal run', { kind: 'unpatch' }));
      } catch (e) {
        this.fail(e);
      }
    });
  }

  /** Write the last answer of an analysis where the user says (a figure or its data). */
  saveAnalysis(analysis: string, format: 'svg' | 'png' | 'npy' | 'json', target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const tokens = this.loaded && (this.loaded.model.decoderTokens ?? this.loaded.model.tokens);
    return saveAnalysisAnswer(analysis, this.analyses.get(analysis), format, tokens, this.log, target);
  }

  /** One analysis of the current input (typed tokens tokenized here), answered to the panel. */
  private async sendAnalysis(msg: WebviewMessage<'analyse'>): Promise<void> {
    if (!(await this.ensureModel()) || !this.loaded) return;
    try {
      const clean = this.loaded.model.decoderIds ?? this.loaded.model.ids;
      const request = await resolveAnalysis(msg.request, msg.texts ?? {}, clean.length, async (text) =>
        this.loaded?.limits.tokenizer ? this.client.request({ kind: 'tokenize', text }) : undefined,
      );
      const reply = await this.track(analysisTitle(request), { kind: 'analyse', request });
      this.analyses.set(request.analysis, { request, reply });
      this.post({ type: 'analysis', request, reply });
    } catch (e) {
      this.fail(e);
    }
  }

  /** The breakdown comes from the config analysis: it exists even when the model cannot run. */
  private async sendParams(): Promise<boolean> {
    if (!this.params && this.configPath) {
      try {
        this.params = (await this.track('Counting parameters', { kind: 'params', configPath: this.configPath })).params;
      } catch (e) {
        if (!this.failure) this.fail(e);
        else this.log.info(`no parameter breakdown: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (this.params) this.post({ type: 'params', params: this.params });
    return this.params !== undefined;
  }

  /** Run a request; if it takes a while, show cancellable progress (./progress.ts). */
  private track<Q extends WorkerRequest>(title: string, request: Q) {
    return track(this.client, (m) => this.post(m), title, request);
  }

  private fail(e: unknown, what?: string): void {
    this.failure = failureOf(e, what ?? (this.configPath && path.basename(this.configPath)), this.log);
    this.post({ type: 'error', ...this.failure });
    if (e instanceof EngineError) this.fireChanged();
  }

  private onEngineRestart(reason: 'user' | 'bug' | 'crash' | 'cancelled', message: string): void {
    this.log.warn(`engine restarted (${reason}): ${message}`);
    if (this.configPath) this.stale = true;
    if (this.quant.report) {
      this.quant.drop(); // the engine process that held it is gone
      this.post({ type: 'quant' });
    }
    announceRestart(reason, message, this.log, () => void this.reload('after a crash'));
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  /** Keep this config's input and step for the next time it is opened (also after a reload). */
  private remember(): void {
    if (!this.memory || !this.configPath || !this.input) return;
    const saved: Remembered = { input: this.input, ...(this.position?.kind === 'step' ? { stepIndex: this.position.step.index } : {}) };
    void this.memory.update(memoryKey(this.configPath), saved);
  }

  private remembered(configPath: string): Remembered | undefined {
    const raw = this.memory?.get<unknown>(memoryKey(configPath));
    return isRemembered(raw) ? raw : undefined;
  }

  private fireChanged(): void {
    void this.updateContext();
    this.changed.fire();
  }

  private async updateContext(): Promise<void> {
    const s = this.state;
    const set = (key: string, value: boolean) => vscode.commands.executeCommand('setContext', key, value);
    await Promise.all([
      set(CONTEXT.panelOpen, s.panelOpen),
      set(CONTEXT.configOpen, s.panelOpen && s.configPath !== undefined),
      set(CONTEXT.modelLoaded, s.modelLoaded),
      set(CONTEXT.hasStep, s.stepName !== undefined),
      set(CONTEXT.atEnd, s.atEnd),
    ]);
  }
}

/** A path a restored panel may reopen: a regular file named like a config. */
function restorable(p: string): boolean {
  return (isNativeConfigPath(p) || isHfConfigName(p) || p.toLowerCase().endsWith('.gguf')) && isRegularFile(p);
}
