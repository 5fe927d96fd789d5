/**
 * The panel's layout: a progress bar, then either a whole-panel state (empty, error, busy) or the
 * model header, the "Step" / "Parameters" tabs and their views. Each part re-renders only when its
 * inputs change; the views also re-render when the theme or the panel width changes.
 */
import type { ThemeColors } from './color';
import { analysesView, newForm, type AnalysesActions } from './components/analyses/analyses-view';
import { attentionView } from './components/attention-view';
import { AttentionZoom } from './components/attention-zoom';
import { compareView } from './components/compare-view';
import { patchedBanner } from './components/patched-banner';
import { generatedTokens } from './components/generated-tokens';
import { modelHeader } from './components/header';
import { paramTable } from './components/param-table';
import { busyState, emptyState, errorState } from './components/states';
import { predictionsView } from './components/predictions-view';
import { quantView } from './components/quant-view';
import { quantMemory } from './components/quant-chart';
import { positionText, stepper } from './components/stepper';
import { tensorView } from './components/tensor-view';
import { hideTooltip } from './components/tooltip';
import { h, Section } from './dom';
import { keyToCommand } from './keyboard';
import type { Store, Tab, ViewState } from './state';
import { readTheme, watchTheme } from './theme';
import { progressBar, tabs } from './toolkit';

const TABS = [
  { id: 'step', label: 'Step' },
  { id: 'params', label: 'Parameters' },
  { id: 'analyses', label: 'Analyses' },
  { id: 'quant', label: 'Quantization' },
] as const;

export class App {
  private theme: ThemeColors = readTheme();
  private width = 0;
  /** The model the overview was last asked for (a new model message clears the overview). */
  private overviewAsked: unknown;
  private readonly progress = new Section(h('div', { class: 'progress-slot' }));
  private readonly placeholder = new Section(h('main', { class: 'placeholder-slot' }));
  private readonly header = new Section(h('div', { class: 'header-slot' }));
  private readonly tabs = tabs(TABS, 'step', (tab: Tab) => this.selectTab(tab));
  private readonly banner = new Section(h('div', { class: 'banner-slot' }));
  private readonly stepperPart = new Section(h('div', { class: 'stepper' }));
  private readonly view = new Section(h('div', { class: 'view-slot' }));
  private readonly comparePart = new Section(h('div', { class: 'compare-slot' }));
  private readonly patchedPart = new Section(h('div', { class: 'patched-slot' }));
  private readonly generatedPart = new Section(h('div', { class: 'generated-slot' }));
  private readonly params = new Section(h('div', { class: 'params-slot' }));
  private readonly stepPanel = this.tabs.panel('step');
  private readonly paramsPanel = this.tabs.panel('params');
  private readonly quant = new Section(h('div', { class: 'quant-slot' }));
  private readonly quantPanel = this.tabs.panel('quant');
  private readonly analyses = new Section(h('div', { class: 'analyses-slot' }));
  /** The Analyses tab's typed values (kept across re-renders), and the model each analysis was auto-run for. */
  private readonly form = newForm();
  private readonly autoRun = new Map<string, unknown>();
  /** Zoom and pan over long attention steps: one, kept across re-renders. */
  private readonly zoom = new AttentionZoom((head, window, cells) =>
    this.store.post({ type: 'requestAttentionWindow', head, window, cells }),
  );
  private readonly analysesPanel = this.tabs.panel('analyses');
  private readonly loaded = h('main', { class: 'loaded' });
  /** One persistent live region, so screen readers hear each new step (re-created regions are not announced). */
  private readonly announcer = h('div', {
    class: 'sr-only',
    attrs: { role: 'status', 'aria-live': 'polite' },
  });

  constructor(
    private readonly root: HTMLElement,
    private readonly store: Store,
  ) {
    this.stepPanel.append(
      this.stepperPart.element,
      this.patchedPart.element,
      this.generatedPart.element,
      this.comparePart.element,
      this.view.element,
    );
    this.paramsPanel.append(this.params.element);
    this.quantPanel.append(this.quant.element);
    this.analysesPanel.append(this.analyses.element);
    this.loaded.append(this.header.element, this.banner.element, this.tabs.element);
    root.append(this.progress.element, this.placeholder.element, this.loaded, this.announcer);
    this.width = this.measure();

    store.subscribe((state, previous) => {
      // A tile only redraws the zoomed canvas; nothing else depends on it.
      if (state.attentionTile !== previous.attentionTile) this.zoom.setTile(state.attentionTile);
      this.render(state);
    });
    watchTheme((theme) => {
      this.theme = theme;
      this.render(store.state);
    });
    new ResizeObserver(() => {
      const width = this.measure();
      if (Math.abs(width - this.width) < 8) return;
      this.width = width;
      this.render(store.state);
    }).observe(root);
    document.addEventListener('keydown', (e) => this.onKey(e));
    window.addEventListener('scroll', hideTooltip, { passive: true });
    this.render(store.state);
  }

  private measure(): number {
    return Math.max(240, Math.floor(this.root.clientWidth || window.innerWidth) - 32);
  }

  private onKey(e: KeyboardEvent): void {
    const state = this.store.state;
    if (!state.model || state.tab === 'params') return;
    const target = e.target instanceof HTMLElement ? e.target : undefined;
    const command = keyToCommand({
      key: e.key,
      altKey: e.altKey,
      ctrlKey: e.ctrlKey,
      metaKey: e.metaKey,
      shiftKey: e.shiftKey,
      target: target && {
        tagName: target.tagName,
        isContentEditable: target.isContentEditable,
        role: target.getAttribute('role'),
        inComposite: target.closest('[data-composite]') !== null,
      },
    });
    if (!command) return;
    e.preventDefault();
    this.store.post({ type: 'command', command });
  }

  private selectTab = (tab: Tab) => this.store.select({ type: 'ui/selectTab', tab });
  private selectHead = (head: number) => this.store.select({ type: 'ui/selectHead', head });

  render(s: ViewState): void {
    const loaded = s.model !== undefined;
    // The thin top bar while a model is shown; with nothing loaded the busy placeholder has its own.
    const topBar = loaded ? s.busy : undefined;
    this.progress.update([topBar], () =>
      topBar
        ? [progressBar(topBar.progress === undefined ? undefined : Math.max(0, Math.min(1, topBar.progress)))]
        : [],
    );
    this.placeholder.element.hidden = loaded;
    this.loaded.hidden = !loaded;
    document.body.setAttribute('aria-busy', s.busy ? 'true' : 'false');

    // Whole-panel states own the placeholder only while nothing is loaded (then it is emptied, so
    // a hidden empty state or error never lingers in the page).
    this.placeholder.update(loaded ? [] : [s.error, s.busy, s.empty], () => {
      if (loaded) return [];
      if (s.error) return [errorState(s.error, false)];
      if (s.busy) return [busyState(s.busy, false)];
      if (s.empty) return [emptyState(s.empty.message)];
      return [h('p', { class: 'placeholder hint', text: 'Waiting for the inspector…' })];
    });
    if (!loaded) return;

    this.header.update([s.model], () => [modelHeader(s.model!)]);
    this.tabs.select(s.tab);
    this.banner.update([s.error, s.busy], () => [
      s.error ? errorState(s.error, true) : null,
      s.busy ? busyState(s.busy, true) : null,
    ]);
    // The stepper serves both the Step and the Quantization tab (they step together).
    const stepperHome = s.tab === 'quant' ? this.quantPanel : this.stepPanel;
    // Moving a node blurs what is focused in it: only when the tab changed.
    if (this.stepperPart.element.parentElement !== stepperHome) stepperHome.prepend(this.stepperPart.element);

    this.stepperPart.update([s.position, s.step, s.steps, s.model], () => {
      this.announcer.textContent = s.step
        ? `Step ${positionText(s.position)}: ${s.step.name}`
        : positionText(s.position);
      return stepper(s, (m) => this.store.post(m));
    });
    this.generatedPart.update([s.generation, s.step], () => generatedTokens(s.generation, s.step, (m) => this.store.post(m)));
    this.comparePart.update([s.comparison, s.selectedHead, this.theme, this.width], () =>
      s.comparison
        ? [
            compareView({
              comparison: s.comparison,
              head: s.selectedHead,
              theme: this.theme,
              width: this.width,
              onClose: () => (
                this.store.dispatch({ type: 'ui/closeComparison' }),
                this.store.post({ type: 'closeComparison' })
              ),
              onGoTo: (name) => this.store.post({ type: 'goToHook', name }),
            }),
          ]
        : [],
    );
    const patched = s.step?.patched;
    this.patchedPart.update([patched?.description], () =>
      patched ? [patchedBanner(patched, () => this.store.post({ type: 'unpatch' }))] : [],
    );
    // The overview needs every pattern of the pass: ask the host once per input.
    if (
      s.step?.view.kind === 'attention' &&
      s.attentionMode === 'overview' &&
      !s.overview &&
      this.overviewAsked !== s.model
    ) {
      this.overviewAsked = s.model;
      this.store.post({ type: 'requestOverview' });
    }
    this.view.update(
      [
        s.step,
        s.selectedHead,
        s.attentionMode,
        s.logCounts,
        s.overview,
        s.pinnedQuery,
        this.theme,
        this.width,
      ],
      () => {
        hideTooltip(); // its canvas is about to go
        const step = s.step;
        if (!step) return [];
        const ctx = { theme: this.theme, width: this.width };
        if (step.view.kind === 'attention') {
          return [
            attentionView(
              step,
              step.view,
              {
                selectedHead: s.selectedHead,
                mode: s.attentionMode,
                logCounts: s.logCounts,
                onSelectHead: this.selectHead,
                onMode: (mode) => this.store.dispatch({ type: 'ui/attentionMode', mode }),
                onLogCounts: (on) => this.store.dispatch({ type: 'ui/logCounts', on }),
                overview: s.overview,
                pinnedQuery: s.pinnedQuery,
                zoom: this.zoom,
                onPin: (query) => this.store.dispatch({ type: 'ui/pinQuery', query }),
                onOpen: (name, head) => {
                  this.store.dispatch({ type: 'ui/attentionMode', mode: 'heatmap' });
                  this.selectHead(head);
                  this.store.post({ type: 'goToHook', name });
                },
              },
              ctx,
            ),
          ];
        }
        return [
          step.predictions ? predictionsView(step.predictions, step.view.rowLabels) : null,
          tensorView(step, step.view, ctx, {
            on: s.logCounts,
            toggle: (on) => this.store.dispatch({ type: 'ui/logCounts', on }),
          }),
        ];
      },
    );
    this.renderParams(s);
    this.quant.update([s.quant, s.quantStep, s.step, this.theme, this.width], () => [
      quantView(s, { theme: this.theme, width: this.width, post: (m) => this.store.post(m) }),
    ]);
    this.renderAnalyses(s);
  }

  private readonly analysisActions: AnalysesActions = {
    choose: (analysis) => this.store.dispatch({ type: 'ui/analysis', analysis }),
    post: (m) => this.store.post(m),
    toggleHead: (layer, head) => (
      this.store.dispatch({ type: 'ui/toggleAblateHead', layer, head }),
      this.postAblation()
    ),
    clearHeads: () => (this.store.dispatch({ type: 'ui/clearAblateHeads' }), this.postAblation()),
    openPatched: (row, col) => this.store.post({ type: 'openPatchedStep', row, col }),
    openHook: (name, head) => {
      this.selectTab('step');
      if (head !== undefined) {
        this.store.dispatch({ type: 'ui/attentionMode', mode: 'heatmap' });
        // Kept when the pattern step arrives (every layer has the same heads).
        this.selectHead(head);
      }
      this.store.post({ type: 'goToHook', name });
    },
    rerender: () => (this.analyses.invalidate(), this.renderAnalyses(this.store.state)),
  };

  /** The host keeps the ablation set (the sidebar edits it too): tell it what the panel chose. */
  private postAblation(): void {
    const s = this.store.state;
    this.store.post({
      type: 'ablationSet',
      heads: s.ablateHeads,
      mlps: s.ablateMlps,
      layers: s.ablateLayers,
    });
  }

  private renderAnalyses(s: ViewState): void {
    // The lens and the detectors need no inputs: run them once per input when first shown.
    if (
      s.tab === 'analyses' &&
      (s.analysis === 'lens' || s.analysis === 'heads') &&
      !s.analyses[s.analysis] &&
      !s.busy &&
      this.autoRun.get(s.analysis) !== s.model
    ) {
      this.autoRun.set(s.analysis, s.model);
      this.store.post({
        type: 'analyse',
        request: s.analysis === 'lens' ? { analysis: 'lens', top: 5 } : { analysis: 'heads' },
      });
    }
    if (s.tab !== 'analyses') return;
    this.analyses.update(
      [
        s.analysis,
        s.analyses,
        s.ablateHeads,
        s.ablateMlps,
        s.ablateLayers,
        s.model,
        s.busy === undefined,
        this.theme,
        this.width,
      ],
      () => [analysesView(s, this.form, { theme: this.theme, width: this.width }, this.analysisActions)],
    );
  }

  private renderParams(s: ViewState): void {
    this.params.update([s.params, s.model, s.quant], () => [
      paramTable(s.params, s.model, () => (this.params.invalidate(), this.renderParams(this.store.state))),
      quantMemory(s.quant),
    ]);
  }
}
