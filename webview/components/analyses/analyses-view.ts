/**
 * The Analyses tab: a chooser (logit lens, attribution, head detectors, ablation, patching), the
 * few inputs each analysis takes, a Run button, and the view of the host's last answer. Typed
 * tokens and the corrupted input go to the host as text (it tokenizes them). The form's values live
 * in `AnalysesForm`, kept by the app across re-renders.
 */
import type { AnalysisRequest, PatchWhat } from '../../../protocol/analyses';
import { ANALYSES, type AnalysisKind } from '../../../protocol/analysis-request';
import type { FromWebview } from '../../../protocol/webview';
import type { ThemeColors } from '../../color';
import { h } from '../../dom';
import type { ViewState } from '../../state';
import { ablationView } from './ablation-view';
import { attributionView } from './attribution-view';
import { headsView } from './heads-view';
import { labelMap, lensCell, parseHeadKeys, patternHook, tokenLabel } from './labels';
import { lensView } from './lens-view';
import { patchingView, type PatchCell } from './patching-view';

export const ANALYSIS_TITLES: Record<AnalysisKind, string> = {
  lens: 'Logit lens',
  attribution: 'Attribution',
  heads: 'Head detectors',
  ablation: 'Ablation',
  patching: 'Patching',
};

/** What the user typed or chose in the tab, kept across re-renders (not saved). */
export interface AnalysesForm {
  target: string;
  versus: string;
  corrupted: string;
  what: PatchWhat;
  mode: 'zero' | 'mean';
  lensFrom: number;
  choosing: boolean;
  ablationPosition?: number;
  patchCell?: PatchCell;
}

export function newForm(): AnalysesForm {
  return { target: '', versus: '', corrupted: '', what: 'resid', mode: 'zero', lensFrom: 0, choosing: false };
}

export interface AnalysesActions {
  choose: (analysis: AnalysisKind) => void;
  post: (m: FromWebview) => void;
  toggleHead: (layer: number, head: number) => void;
  clearHeads: () => void;
  /** Open a hook in the Step tab (with a head selected for patterns). */
  openHook: (name: string, head?: number) => void;
  /** Open a patching cell as its patched run in the Step tab. */
  openPatched: (row: number, col: number) => void;
  rerender: () => void;
}

/** The request the form describes for `analysis` (the host tokenizes `texts`). */
export function formRequest(
  analysis: AnalysisKind,
  form: AnalysesForm,
  s: ViewState,
): Extract<FromWebview, { type: 'analyse' }> | string {
  const target = form.target.trim() === '' ? undefined : form.target;
  switch (analysis) {
    case 'lens':
      return {
        type: 'analyse',
        request: { analysis: 'lens', top: 5 },
        ...(target !== undefined && { texts: { target } }),
      };
    case 'heads':
      return { type: 'analyse', request: { analysis: 'heads' } };
    case 'attribution':
      if (target === undefined) return 'Type the target token (or pick one of the lens’s predictions).';
      return {
        type: 'analyse',
        request: { analysis: 'attribution', target: 0 },
        texts: { target, ...(form.versus.trim() && { versus: form.versus }) },
      };
    case 'ablation': {
      const heads = parseHeadKeys(s.ablateHeads);
      if (!heads.length && !s.ablateMlps.length && !s.ablateLayers.length)
        return 'Choose heads in the Head detectors view, or Add to Ablation from the Model view (heads, MLPs, layers), first.';
      return {
        type: 'analyse',
        request: {
          analysis: 'ablation',
          heads,
          ...(s.ablateMlps.length > 0 && { mlps: [...s.ablateMlps] }),
          ...(s.ablateLayers.length > 0 && { layers: [...s.ablateLayers] }),
          mode: form.mode,
          top: 5,
        },
      };
    }
    case 'patching':
      if (target === undefined || !form.versus.trim() || !form.corrupted)
        return 'Type the corrupted input, the target token and the token it competes with.';
      return {
        type: 'analyse',
        request: { analysis: 'patching', corrupted: [], target: 0, versus: 0, what: form.what },
        texts: { target, versus: form.versus, corrupted: form.corrupted },
      };
  }
}

/** The ablation set in words: "L2 H1, MLP 0, layer 1". */
export function ablationText(s: Pick<ViewState, 'ablateHeads' | 'ablateMlps' | 'ablateLayers'>): string {
  return [
    ...parseHeadKeys(s.ablateHeads).map((x) => `L${x.layer} H${x.head}`),
    ...s.ablateMlps.map((l) => `MLP ${l}`),
    ...s.ablateLayers.map((l) => `layer ${l}`),
  ].join(', ');
}

function field(
  label: string,
  value: string,
  onInput: (v: string) => void,
  attrs: Record<string, string> = {},
): HTMLElement {
  return h(
    'label',
    { class: 'analysis-field' },
    h('span', { text: label }),
    h('input', {
      class: 'tk-input',
      attrs: { type: 'text', value, spellcheck: 'false', 'data-focus-key': `field-${label}`, ...attrs },
      on: { input: (e) => onInput((e.target as HTMLInputElement).value) },
    }),
  );
}

function select<T extends string>(
  label: string,
  value: T,
  options: [T, string][],
  onChange: (v: T) => void,
): HTMLElement {
  const el = h(
    'select',
    { class: 'tk-select', on: { change: (e) => onChange((e.target as HTMLSelectElement).value as T) } },
    ...options.map(([v, text]) => h('option', { text, attrs: { value: v, selected: v === value } })),
  );
  return h('label', { class: 'analysis-field' }, h('span', { text: label }), el);
}

/** Candidate targets: the lens's final-layer top tokens at the last position, as typed text. */
function candidates(s: ViewState): HTMLElement | null {
  const lens = s.analyses.lens;
  if (!lens || lens.reply.view.analysis !== 'lens') return null;
  const v = lens.reply.view;
  const labels = labelMap(lens.reply);
  return h(
    'datalist',
    { attrs: { id: 'analysis-targets' } },
    ...lensCell(v, v.hooks.length - 1, v.positions - 1).map((x) =>
      h('option', { attrs: { value: labels.get(x.id) ?? String(x.id), label: tokenLabel(labels, x.id) } }),
    ),
  );
}

function controls(analysis: AnalysisKind, form: AnalysesForm, s: ViewState, a: AnalysesActions): HTMLElement {
  const set =
    <K extends keyof AnalysesForm>(k: K) =>
    (v: AnalysesForm[K]) =>
      void (form[k] = v);
  const fields: (HTMLElement | null)[] = [];
  const tokenAttrs = { list: 'analysis-targets', placeholder: 'a token, e.g. " light", or an id' };
  if (analysis === 'lens') fields.push(field('Target (optional)', form.target, set('target'), tokenAttrs));
  if (analysis === 'attribution')
    fields.push(
      field('Target', form.target, set('target'), tokenAttrs),
      field('Versus (optional)', form.versus, set('versus'), tokenAttrs),
    );
  if (analysis === 'ablation') {
    fields.push(
      h(
        'span',
        { class: 'analysis-field' },
        h('span', { text: 'Ablate' }),
        h('output', {
          class: 'ablate-heads ablate-parts',
          text:
            ablationText(s) ||
            'none: choose heads in Head detectors, or right-click a head, MLP or layer in the Model view → Add to Ablation',
          attrs: { 'data-testid': 'ablate-heads' },
        }),
      ),
      s.ablateHeads.length || s.ablateMlps.length || s.ablateLayers.length
        ? h('button', {
            class: 'tk-button tk-button-secondary',
            text: 'Clear',
            attrs: { type: 'button' },
            on: { click: a.clearHeads },
          })
        : null,
      select(
        'Mode',
        form.mode,
        [
          ['zero', 'zero'],
          ['mean', 'mean over positions'],
        ],
        set('mode'),
      ),
    );
  }
  if (analysis === 'patching')
    fields.push(
      field('Corrupted input', form.corrupted, set('corrupted'), {
        placeholder: 'same number of tokens as the input',
        'data-testid': 'corrupted-input',
      }),
      field('Target', form.target, set('target'), tokenAttrs),
      field('Versus', form.versus, set('versus'), tokenAttrs),
      select(
        'Patch',
        form.what,
        [
          ['resid', 'residual stream (layer × position)'],
          ['heads', 'attention heads (layer × head)'],
          ['mlp', 'MLP outputs (layer × position)'],
        ],
        set('what'),
      ),
    );
  const message = h('span', { class: 'hint analysis-message', attrs: { role: 'status' } });
  const run = h('button', {
    class: 'tk-button tk-button-primary',
    text: 'Run',
    attrs: { type: 'button', 'data-testid': 'run-analysis', disabled: s.busy !== undefined },
    on: {
      click: () => {
        const req = formRequest(analysis, form, s);
        if (typeof req === 'string') message.textContent = req;
        else a.post(req);
      },
    },
  });
  return h(
    'form',
    { class: 'analysis-controls', on: { submit: (e) => (e.preventDefault(), run.click()) } },
    ...fields,
    candidates(s),
    run,
    message,
  );
}

export interface AnalysesContext {
  theme: ThemeColors;
  width: number;
}

function result(
  analysis: AnalysisKind,
  form: AnalysesForm,
  s: ViewState,
  ctx: AnalysesContext,
  a: AnalysesActions,
): HTMLElement | null {
  const tokens = s.model?.decoderTokens ?? s.model?.tokens ?? [];
  const answer = s.analyses[analysis];
  if (!answer && analysis !== 'ablation' && analysis !== 'heads')
    return h('p', { class: 'hint', text: 'Run it to see the result.' });
  const labels = answer && labelMap(answer.reply);
  const view = answer?.reply.view;
  switch (analysis) {
    case 'lens':
      return view?.analysis === 'lens'
        ? lensView({
            view,
            labels: labels!,
            tokens,
            theme: ctx.theme,
            from: form.lensFrom,
            onPage: (from) => ((form.lensFrom = from), a.rerender()),
          })
        : null;
    case 'attribution':
      return view?.analysis === 'attribution' ? attributionView(view, labels!, ctx.theme) : null;
    case 'heads':
      if (view?.analysis !== 'heads') return h('p', { class: 'hint', text: 'Run it to score every head.' });
      return headsView({
        view,
        theme: ctx.theme,
        chosen: s.ablateHeads,
        choosing: form.choosing,
        onChoosing: (on) => ((form.choosing = on), a.rerender()),
        onOpen: (layer, head) => a.openHook(patternHook(layer), head),
        onToggle: a.toggleHead,
      });
    case 'ablation':
      return ablationView({
        view: view?.analysis === 'ablation' ? view : undefined,
        labels,
        tokens,
        theme: ctx.theme,
        selected: form.ablationPosition,
        onSelect: (position) => ((form.ablationPosition = position), a.rerender()),
      });
    case 'patching':
      return view?.analysis === 'patching'
        ? patchingView({
            view,
            tokens,
            theme: ctx.theme,
            width: ctx.width,
            selected: form.patchCell,
            onSelect: (cell) => ((form.patchCell = cell), a.rerender()),
            onOpenHook: (hook) => a.openHook(hook),
            onOpenPatched: (cell) => a.openPatched(cell.row, cell.col),
          })
        : null;
  }
}

/** The request an answer was for, in words (so a stale answer is not mistaken for the current form). */
function answered(request: AnalysisRequest | undefined): string {
  if (!request) return '';
  if (request.analysis === 'ablation')
    return `${request.mode ?? 'zero'}-ablated ${ablationText({
      ablateHeads: request.heads?.map((x) => `${x.layer}.${x.head}`) ?? [],
      ablateMlps: request.mlps ?? [],
      ablateLayers: request.layers ?? [],
    })}`;
  if (request.analysis === 'patching')
    return `patching ${request.what ?? 'resid'}, ${request.corrupted.length} tokens`;
  return '';
}

export function analysesView(
  s: ViewState,
  form: AnalysesForm,
  ctx: AnalysesContext,
  a: AnalysesActions,
): HTMLElement {
  const chooser = h(
    'div',
    {
      class: 'analysis-chooser',
      attrs: { role: 'radiogroup', 'aria-label': 'Analysis', 'data-composite': '' },
    },
    ...ANALYSES.map((kind) =>
      h('button', {
        class: `analysis-choice${kind === s.analysis ? ' selected' : ''}`,
        text: ANALYSIS_TITLES[kind],
        attrs: {
          type: 'button',
          role: 'radio',
          'aria-checked': kind === s.analysis ? 'true' : 'false',
          tabindex: kind === s.analysis ? 0 : -1,
          'data-analysis': kind,
          'data-focus-key': `analysis-${kind}`,
        },
        on: { click: () => a.choose(kind) },
      }),
    ),
  );
  chooser.addEventListener('keydown', (e) => {
    const i = ANALYSES.indexOf(s.analysis);
    const step =
      e.key === 'ArrowRight' || e.key === 'ArrowDown'
        ? 1
        : e.key === 'ArrowLeft' || e.key === 'ArrowUp'
          ? -1
          : 0;
    if (!step) return;
    e.preventDefault();
    const next = ANALYSES[(i + step + ANALYSES.length) % ANALYSES.length];
    a.choose(next);
    (document.querySelector(`.analysis-choice[data-analysis="${next}"]`) as HTMLElement | null)?.focus();
  });
  const note = answered(s.analyses[s.analysis]?.request);
  const exports = s.analyses[s.analysis]
    ? h(
        'div',
        { class: 'analysis-export', attrs: { role: 'group', 'aria-label': 'Export this view' } },
        h('span', { class: 'hint', text: 'Export:' }),
        ...(['svg', 'png', 'json', 'npy'] as const).map((format) =>
          h('button', {
            class: 'tk-button tk-button-secondary',
            text: format === 'npy' ? '.npy' : format.toUpperCase(),
            attrs: {
              type: 'button',
              'data-export': format,
              title:
                format === 'svg'
                  ? 'A vector figure (for papers)'
                  : format === 'png'
                    ? 'A picture of the matrix'
                    : 'The data',
            },
            on: { click: () => a.post({ type: 'exportAnalysis', analysis: s.analysis, format }) },
          }),
        ),
      )
    : null;
  return h(
    'div',
    { class: 'analyses-view', attrs: { 'data-testid': 'analyses', 'data-analysis': s.analysis } },
    chooser,
    controls(s.analysis, form, s, a),
    note ? h('p', { class: 'hint', text: `Shown: ${note}` }) : null,
    exports,
    result(s.analysis, form, s, ctx, a),
  );
}
