/**
 * The panel's one state module. `reduce` folds host messages (`ToWebview`) and the panel's own UI
 * actions into a `ViewState`; it is pure and tested without a DOM. `Store` holds the current state,
 * persists the restorable part as a `PanelState` with the webview API's setState, and tells the
 * views when something changed.
 */
import {
  parseFromWebview,
  type FromWebview,
  type ModelInfo,
  type PanelState,
  type ParamsInfo,
  type AttentionOverview,
  type StepInfo,
  type ToWebview,
  type PanelTab,
  type AttentionWindowTile,
  type ComparisonView,
  type GenerationInfo,
} from '../protocol/webview';
import type { QuantReport, QuantStep } from '../protocol/quant';
import type { AnalysisReply, AnalysisRequest } from '../protocol/analyses';
import type { AnalysisKind } from '../protocol/analysis-request';

export type Tab = PanelTab;

/** An analysis the host answered for the current input: the request (tokenized) and the view. */
export interface AnalysisResult {
  request: AnalysisRequest;
  reply: AnalysisReply;
}

export interface ViewState {
  /** Nothing loaded: the host's message, shown with a hint. */
  empty?: { message: string };
  /** Long work under way; the views stay visible underneath. */
  busy?: { message: string; progress?: number };
  /** The last failure, with where it happened; cleared by the next successful message. */
  error?: { message: string; where?: string };
  model?: ModelInfo;
  steps: { name: string; shape: number[] }[];
  /** The current step; undefined before the first step or when no model is loaded. */
  step?: StepInfo;
  /** Position of the stepper: index −1 is "before the first step". */
  position: { index: number; computed: number; done: boolean };
  params?: ParamsInfo;
  tab: Tab;
  selectedHead: number;
  attentionMode: AttentionMode;
  /** Every attention pattern (layers × heads), once the host sent it for this input. */
  overview?: AttentionOverview;
  /** The analysis shown in the Analyses tab, and the last answer of each for this input. */
  analysis: AnalysisKind;
  analyses: Partial<Record<AnalysisRequest['analysis'], AnalysisResult>>;
  /** Heads chosen in the detector grid (or the sidebar) for ablation, as `layer.head`. */
  ablateHeads: string[];
  /** MLPs and whole layers chosen in the sidebar for ablation, by layer. */
  ablateMlps: number[];
  ablateLayers: number[];
  /** Compare With…: the current input against another at one hook, until closed or the input changes. */
  comparison?: ComparisonView;
  /** The last window of a long attention step the host sent (zoom and pan). */
  attentionTile?: AttentionWindowTile;
  /** The attention heatmap's pinned query row (click a row; click it again to unpin). */
  pinnedQuery?: number;
  /** Histograms count on a log scale (so a few large values next to many zeros both show). */
  logCounts: boolean;
  /** After Quantize Model…: the engine's report, and the current hook float vs quantized. */
  quant?: QuantReport;
  quantStep?: QuantStep;
  /** After Generate Next Token: the tokens appended and the position whose steps are shown. */
  generation?: GenerationInfo;
  /** Config path the restored PanelState was saved for, kept until the host sends a model. */
  restoredConfigPath?: string;
}

/** Actions that start in the panel itself. */
/** How the attention step is drawn: the heatmap of a head, its lines, or every layer × head at once. */
export type AttentionMode = NonNullable<PanelState['attentionMode']>;

export type UiAction =
  | { type: 'ui/selectHead'; head: number }
  | { type: 'ui/selectTab'; tab: Tab }
  | { type: 'ui/attentionMode'; mode: AttentionMode }
  | { type: 'ui/logCounts'; on: boolean }
  | { type: 'ui/analysis'; analysis: AnalysisKind }
  | { type: 'ui/toggleAblateHead'; layer: number; head: number }
  | { type: 'ui/clearAblateHeads' }
  | { type: 'ui/pinQuery'; query: number | undefined }
  | { type: 'ui/closeComparison' };

export type Action = ToWebview | UiAction;

export function initialState(saved?: PanelState): ViewState {
  return {
    steps: [],
    position: { index: -1, computed: 0, done: false },
    tab: saved?.tab ?? 'step',
    selectedHead: saved?.selectedHead ?? 0,
    attentionMode: saved?.attentionMode ?? 'heatmap',
    analysis: saved?.analysis && saved.analysis !== 'rollout' ? saved.analysis : 'lens',
    analyses: {},
    ablateHeads: [],
    ablateMlps: [],
    ablateLayers: [],
    logCounts: false,
    restoredConfigPath: saved?.configPath,
  };
}

/** A saved state from getState(), checked with the protocol's own validation; undefined if malformed. */
export function restorePanelState(raw: unknown): PanelState | undefined {
  const parsed = parseFromWebview({ type: 'ready', state: raw ?? undefined });
  return parsed?.type === 'ready' ? parsed.state : undefined;
}

/** Heads of the current step when it is an attention step, else 0. */
export function headCount(state: ViewState): number {
  return state.step?.view.kind === 'attention' ? state.step.view.heads : 0;
}

function clampHead(head: number, heads: number): number {
  if (heads <= 0) return Math.max(0, head);
  return Math.max(0, Math.min(heads - 1, head));
}

export function reduce(state: ViewState, action: Action): ViewState {
  switch (action.type) {
    case 'empty':
      return {
        ...initialState(),
        tab: state.tab,
        analysis: state.analysis,
        empty: { message: action.message },
      };
    case 'error':
      return { ...state, busy: undefined, error: { message: action.message, where: action.where } };
    case 'busy':
      return { ...state, busy: { message: action.message, progress: action.progress } };
    case 'model': {
      const sameModel = (state.model?.configPath ?? state.restoredConfigPath) === action.model.configPath;
      return {
        ...state,
        empty: undefined,
        busy: undefined,
        error: undefined,
        model: action.model,
        steps: action.steps,
        step: undefined,
        position: { index: -1, computed: 0, done: false },
        params: sameModel ? state.params : undefined,
        overview: undefined,
        analyses: {},
        comparison: undefined,
        ablateHeads: sameModel ? state.ablateHeads : [],
        ablateMlps: sameModel ? state.ablateMlps : [],
        ablateLayers: sameModel ? state.ablateLayers : [],
        pinnedQuery: undefined,
        selectedHead: sameModel ? state.selectedHead : 0,
        restoredConfigPath: undefined,
      };
    }
    case 'step': {
      const { step } = action;
      const heads = step.view.kind === 'attention' ? step.view.heads : 0;
      return {
        ...state,
        empty: undefined,
        busy: undefined,
        error: undefined,
        step,
        position: { index: step.index, computed: step.computed, done: step.done },
        pinnedQuery: state.step?.name === step.name ? state.pinnedQuery : undefined,
        attentionTile: state.attentionTile?.name === step.name ? state.attentionTile : undefined,
        selectedHead: clampHead(state.selectedHead, heads),
      };
    }
    case 'beforeFirstStep':
      return {
        ...state,
        empty: undefined,
        busy: undefined,
        error: undefined,
        step: undefined,
        position: { index: -1, computed: action.computed, done: action.done },
      };
    case 'params':
      return { ...state, empty: undefined, busy: undefined, params: action.params };
    case 'showTab':
    case 'ui/selectTab':
      return state.tab === action.tab ? state : { ...state, tab: action.tab };
    case 'overview':
      return { ...state, busy: undefined, overview: action.overview };
    case 'quant':
      return { ...state, busy: undefined, quant: action.report, quantStep: undefined };
    case 'quantStep':
      return { ...state, quantStep: action.step };
    case 'generation':
      return { ...state, busy: undefined, generation: action.generation };
    case 'ui/attentionMode':
      return state.attentionMode === action.mode ? state : { ...state, attentionMode: action.mode };
    case 'analysis': {
      const kind = action.request.analysis;
      return {
        ...state,
        busy: undefined,
        error: undefined,
        analyses: { ...state.analyses, [kind]: { request: action.request, reply: action.reply } },
      };
    }
    case 'comparison':
      // The first comparison shows the Step tab; the ones that follow each step leave the tab alone.
      return {
        ...state,
        busy: undefined,
        error: undefined,
        tab: state.comparison ? state.tab : 'step',
        comparison: action.comparison,
      };
    case 'ablation':
      return {
        ...state,
        ablateHeads: [...action.heads],
        ablateMlps: [...action.mlps],
        ablateLayers: [...action.layers],
      };
    case 'ui/closeComparison':
      return state.comparison ? { ...state, comparison: undefined } : state;
    case 'attentionWindow':
      return { ...state, attentionTile: action.window };
    case 'ui/analysis':
      return state.analysis === action.analysis ? state : { ...state, analysis: action.analysis };
    case 'ui/toggleAblateHead': {
      const key = `${action.layer}.${action.head}`;
      const heads = state.ablateHeads.includes(key)
        ? state.ablateHeads.filter((k) => k !== key)
        : [...state.ablateHeads, key];
      return { ...state, ablateHeads: heads };
    }
    case 'ui/clearAblateHeads':
      return state.ablateHeads.length || state.ablateMlps.length || state.ablateLayers.length
        ? { ...state, ablateHeads: [], ablateMlps: [], ablateLayers: [] }
        : state;
    case 'ui/pinQuery':
      return state.pinnedQuery === action.query ? state : { ...state, pinnedQuery: action.query };
    case 'ui/logCounts':
      return state.logCounts === action.on ? state : { ...state, logCounts: action.on };
    case 'selectHead':
    case 'ui/selectHead': {
      const head = clampHead(action.head, headCount(state));
      return state.selectedHead === head ? state : { ...state, selectedHead: head };
    }
    default:
      return state;
  }
}

/** The restorable part of the view. */
export function toPanelState(state: ViewState): PanelState {
  const panel: PanelState = { tab: state.tab, selectedHead: state.selectedHead };
  if (state.attentionMode !== 'heatmap') panel.attentionMode = state.attentionMode;
  if (state.analysis !== 'lens') panel.analysis = state.analysis;
  const configPath = state.model?.configPath ?? state.restoredConfigPath;
  if (configPath !== undefined) panel.configPath = configPath;
  if (state.step) panel.stepIndex = state.step.index;
  return panel;
}

export function samePanelState(a: PanelState | undefined, b: PanelState): boolean {
  return (
    a !== undefined &&
    a.configPath === b.configPath &&
    a.stepIndex === b.stepIndex &&
    a.selectedHead === b.selectedHead &&
    a.tab === b.tab &&
    a.attentionMode === b.attentionMode &&
    a.analysis === b.analysis
  );
}

const TO_WEBVIEW_TYPES = new Set<string>([
  'empty',
  'error',
  'busy',
  'model',
  'step',
  'beforeFirstStep',
  'params',
  'showTab',
  'selectHead',
  'overview',
  'quant',
  'quantStep',
  'analysis',
  'attentionWindow',
  'comparison',
  'ablation',
  'generation',
]);

/** A light guard on incoming messages: the host is trusted, but the window also sees other messages. */
export function isToWebview(data: unknown): data is ToWebview {
  return (
    typeof data === 'object' &&
    data !== null &&
    TO_WEBVIEW_TYPES.has((data as { type?: unknown }).type as string)
  );
}

/** What the store needs from `acquireVsCodeApi()`. */
export interface WebviewApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: PanelState): void;
}

export class Store {
  private current: ViewState;
  private saved: PanelState | undefined;
  private readonly listeners: ((state: ViewState, previous: ViewState) => void)[] = [];

  constructor(private readonly api: WebviewApi) {
    this.saved = restorePanelState(api.getState());
    this.current = initialState(this.saved);
  }

  get state(): ViewState {
    return this.current;
  }

  /** Tell the host the panel is ready, with what it should restore. */
  start(): void {
    this.api.postMessage(this.saved ? { type: 'ready', state: this.saved } : { type: 'ready' });
  }

  subscribe(listener: (state: ViewState, previous: ViewState) => void): void {
    this.listeners.push(listener);
  }

  /** Fold an action into the state, persist what changed, and notify the views. */
  dispatch(action: Action): void {
    const previous = this.current;
    const next = reduce(previous, action);
    if (next === previous) return;
    this.current = next;
    const panel = toPanelState(next);
    if (!samePanelState(this.saved, panel)) {
      this.saved = panel;
      this.api.setState(panel);
    }
    for (const listener of this.listeners) listener(next, previous);
  }

  /** Send a message to the host. */
  post(message: FromWebview): void {
    this.api.postMessage(message);
  }

  /** A UI action that the host should also hear about (head selection, tab switch). */
  select(action: UiAction): void {
    const before = this.current;
    this.dispatch(action);
    if (this.current === before) return;
    if (action.type === 'ui/selectHead') this.post({ type: 'selectHead', head: this.current.selectedHead });
    else if (action.type === 'ui/selectTab') this.post({ type: 'showTab', tab: action.tab });
  }
}
