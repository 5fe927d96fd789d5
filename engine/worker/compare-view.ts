import { InspectorError } from '../errors';
import type { LoadedModel } from '../model/load';
import type { ModelInput } from '../model/transformer';
import { compareSteps } from '../analyses/compare';
import { runTrace, type Step } from '../trace/step';
import { isAttentionHook } from '../trace/hooks';
import { attentionView, matrixView } from './views';
import type { Comparison, InputIds, InputRequest } from '../../protocol/worker';
import { checkWholeTrace } from './budget';
import { resolveInput } from './inputs';

/**
 * "Compare With…" for the panel: the current input and another one through the loaded model, at one
 * hook side by side — both runs reduced as the step view is (engine/worker/views.ts) and their
 * difference (b − a) — with every hook's size of change and the top probability changes at the last
 * position (engine/analyses/compare.ts). Two inputs of different lengths compare at the logits' last
 * position only (the hooks are unmatched).
 */
export function compareView(loaded: LoadedModel, a: ModelInput, b: ModelInput, hook: string, tokens: { a: string[]; b: string[] }, top = 8): Comparison {
  const ra = runTrace(loaded.model.forward(a));
  const rb = runTrace(loaded.model.forward(b));
  const r = compareSteps(ra.steps, rb.steps, ra.result, rb.result, { top });
  const label = (id: number) => (loaded.tokenizer ? loaded.tokenizer.label(id) : String(id));
  const stepA = ra.steps.find((s) => s.name === hook);
  const stepB = rb.steps.find((s) => s.name === hook);
  if (!stepA || !stepB) throw new InspectorError(`compare: no step ${hook} in both runs`);
  const at = r.hooks.find((x) => x.hook === hook);
  const reduce = (s: Step, t: Step['tensor'], toks: string[]) => (isAttentionHook(s.name) ? attentionView(t, s.mask, toks, toks) : matrixView(t, s.dims, toks)).view;
  // Changes at the last position of the shorter run (the logits' last token when the lengths differ).
  const changes = r.topChanges.length ? r.topChanges[r.topChanges.length - 1] : [];
  return {
    kind: 'comparison',
    hook,
    a: reduce(stepA, stepA.tensor, tokens.a),
    b: reduce(stepB, stepB.tensor, tokens.b),
    ...(at ? { diff: reduce(stepA, at.diff, tokens.a), maxAbs: at.maxAbs, meanAbs: at.meanAbs, relative: at.relative } : {}),
    hooks: r.hooks.map((x) => ({ hook: x.hook, maxAbs: x.maxAbs, relative: x.relative })),
    unmatched: r.unmatched.map((u) => u.hook),
    topChanges: changes.map((c) => ({ ...c, token: label(c.id) })),
    tokensB: tokens.b,
  };
}

/**
 * Compare With… on the session's input: the other input resolved (ids or text) and both checked
 * against the trace budget; `tokens` are the current input's labels.
 */
export function compareInputs(loaded: LoadedModel, input: InputIds, otherInput: InputRequest, hook: string, tokens: string[], memoryBudget: number): Comparison {
  if (loaded.spec.architecture === 'encoder-decoder') throw new InspectorError('Compare With… runs single-stack models (encoder or decoder)');
  const other = resolveInput(loaded, otherInput);
  for (const side of [input, other]) checkWholeTrace(loaded.spec, side, memoryBudget, 'Compare With…');
  const label = (id: number) => (loaded.tokenizer ? loaded.tokenizer.label(id) : String(id));
  return compareView(loaded, { ids: [input.ids] }, { ids: [other.ids] }, hook, { a: tokens, b: other.ids.map(label) });
}
