// A patching cell opened in the Step tab (engine/worker/patched-run.ts through the session): the stepper
// walks the patched run; its step at the patched hook and its logits are the patched run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Session, NO_CONTROL } from '../../engine/worker/session';
import { loadModel } from '../../engine/model/load';
import { patchSetup, patchedRun as analysisPatchedRun, patchingGrid } from '../../engine/analyses/patching';
import { logitDifference } from '../../engine/analyses/metrics';
import { runTrace } from '../../engine/trace/step';
import { runIntervened } from '../../engine/trace/intervene';
import { patchedRun } from '../../engine/worker/patched-run';
import type { Moved } from '../../protocol/worker';
import type { StepInfo } from '../../protocol/webview';

const CONFIG = resolve('examples/tiny-llama/config.json');
const loaded = loadModel(CONFIG);
const clean = loaded.tokenizer!.encode('And God said, Let there be light').ids;
const corrupted = clean.map((id, t) => (t === 2 ? (id + 5) % 768 : id));
const T = clean.length;

test('the patched pass: the patched hook carries the clean slice, the rest of the pass follows it, the logits are the grid’s cell', () => {
  const setup = patchSetup(loaded.model, { ids: [clean] }, { ids: [corrupted] });
  const target = 7;
  const versus = 11;
  for (const [what, layer, col] of [
    ['resid', 1, 2],
    ['heads', 2, 1],
    ['mlp', 0, 2],
  ] as const) {
    const grid = patchingGrid(setup, { target, versus, what });
    const run = patchedRun(loaded, { ids: clean }, corrupted, what, layer, col);
    const { steps, result } = runTrace(run.trace());
    const hook = grid.hooks[layer];
    assert.equal(run.label.hook, hook);
    const patch = what === 'heads' ? { hook, head: col } : { hook, position: col };
    // The same cell as activation patching computes it (resumed from the layer there, whole here).
    const expected = analysisPatchedRun(setup, [patch], layer);
    assert.deepEqual(result.data, expected.data, `${what} L${layer} ${col}: the logits`);
    assert.equal(logitDifference(result, 0, T - 1, target, versus), grid.logitDiffs[layer][col]);
    // The recorded step at the hook is the tensor that flowed on: the clean slice in the corrupted one.
    const at = steps.find((s) => s.name === hook)!.tensor;
    const cleanAt = setup.clean.steps.find((s) => s.name === hook)!.tensor;
    const corruptedAt = setup.corrupted.steps.find((s) => s.name === hook)!.tensor;
    const reference = runIntervened(loaded.model.forward({ ids: [corrupted] }), (s) => (s.name === hook ? at : undefined)).steps;
    assert.deepEqual(reference.find((s) => s.name === 'logits')!.tensor.data, result.data);
    const row = at.size / T;
    let fromClean = 0;
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < row; j++) {
        const i = t * row + j;
        const patched = what === 'heads' ? Math.floor(j / at.shape[3]) === col : t === col;
        assert.equal(at.data[i], patched ? cleanAt.data[i] : corruptedAt.data[i]);
        if (patched && cleanAt.data[i] !== corruptedAt.data[i]) fromClean++;
      }
    }
    assert.ok(what === 'resid' && layer === 1 ? fromClean > 0 : true, 'the clean slice differs from the corrupted one');
  }
});

test('the session steps through the patched run, labelled, and goes back to the normal run at the same hook', () => {
  const s = new Session();
  s.load(CONFIG, { ids: clean }, 'auto', NO_CONTROL);
  const step = (r: Moved) => (r.position.kind === 'step' ? r.position.step : assert.fail('no step')) as StepInfo;
  const normal = step(s.move({ to: 'hook', name: 'blocks.1.hook_resid_pre' }, NO_CONTROL));
  const opened = s.handle({ kind: 'patchedStep', corrupted, what: 'resid', layer: 1, col: 2 }, NO_CONTROL).reply as Moved;
  const p = step(opened);
  assert.equal(p.name, 'blocks.1.hook_resid_pre');
  assert.deepEqual(p.patched, {
    what: 'resid',
    layer: 1,
    hook: 'blocks.1.hook_resid_pre',
    position: 2,
    description: 'the corrupted input with blocks.1.hook_resid_pre at position 2 from the clean run',
  });
  assert.equal(p.view.kind === 'matrix' && p.view.rowLabels[2], loaded.tokenizer!.label(corrupted[2]), 'rows are the corrupted tokens');
  const run = runTrace(patchedRun(loaded, { ids: clean }, corrupted, 'resid', 1, 2).trace()).steps;
  const shows = (info: StepInfo, hook: string) => {
    const expected = run.find((x) => x.name === hook)!.tensor;
    assert.ok(info.view.kind === 'matrix');
    for (let i = 0; i < info.view.rows; i++) {
      for (let c = 0; c < info.view.cols; c++) assert.equal(info.view.data[i * info.view.cols + c], expected.data[i * expected.shape[2] + info.view.colIndex[c]]);
    }
  };
  shows(p, 'blocks.1.hook_resid_pre');
  assert.notDeepEqual(p.view.data, normal.view.data, 'not the unpatched step');
  const later = step(s.move({ to: 'hook', name: 'blocks.2.hook_resid_post' }, NO_CONTROL));
  shows(later, 'blocks.2.hook_resid_post');
  assert.ok(later.patched, 'every step of the patched run is labelled');
  const back = step(s.handle({ kind: 'unpatch' }, NO_CONTROL).reply as Moved);
  assert.equal(back.name, 'blocks.2.hook_resid_post');
  assert.equal(back.patched, undefined);
  assert.deepEqual(step(s.move({ to: 'hook', name: 'blocks.1.hook_resid_pre' }, NO_CONTROL)).view.data, normal.view.data);
  assert.throws(() => s.handle({ kind: 'patchedStep', corrupted: corrupted.slice(1), what: 'resid', layer: 1, col: 2 }, NO_CONTROL), /same length/);
  assert.throws(() => s.handle({ kind: 'patchedStep', corrupted, what: 'heads', layer: 1, col: 9 }, NO_CONTROL), /heads 0 … 3, not 9/);
  assert.throws(() => s.handle({ kind: 'patchedStep', corrupted, what: 'resid', layer: 3, col: 0 }, NO_CONTROL), /layer 3 does not exist/);
});

test('a patched run does not generate: its keys are not the input\'s own; back on the normal run it does', () => {
  const s = new Session();
  s.load(CONFIG, { ids: clean }, 'auto', NO_CONTROL);
  s.handle({ kind: 'patchedStep', corrupted, what: 'resid', layer: 1, col: 2 }, NO_CONTROL);
  assert.throws(() => s.handle({ kind: 'generate' }, NO_CONTROL), /patched run .* go back to the normal run/);
  s.handle({ kind: 'unpatch' }, NO_CONTROL);
  const r = s.handle({ kind: 'generate' }, NO_CONTROL).reply as { kind: string; generation: { tokens: unknown[] } };
  assert.equal(r.kind, 'generated');
  assert.equal(r.generation.tokens.length, 1);
});
