/** The engine worker's analysis requests: view-ready payloads, labels, sizes bounded by what a view draws. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Session, NO_CONTROL } from '../../engine/worker/session';
import type { AnalysisReply, AnalysisView } from '../../engine/analyses/views';
import type { WorkerRequest } from '../../protocol/worker';
import { isInspectorError } from '../../engine/errors';

const TINY = path.resolve(__dirname, '..', '..', 'examples', 'tiny-llama');
const session = new Session();
session.load(TINY, { text: 'And God said, Let there be light: and there was light.' }, 'auto', NO_CONTROL);
const T = 18;

function analyse<K extends AnalysisView['analysis']>(request: Extract<WorkerRequest, { kind: 'analyse' }>['request'] & { analysis: K }) {
  const { reply, transfer } = session.handle({ kind: 'analyse', request });
  assert.equal(reply.kind, 'analysis');
  const r = reply as AnalysisReply;
  assert.equal(r.view.analysis, request.analysis);
  return { view: r.view as Extract<AnalysisView, { analysis: K }>, labels: new Map(r.labels), transfer };
}

test('lens: [depth, position, k] typed arrays, transferred; every id it names has a label', () => {
  const { view, labels, transfer } = analyse({ analysis: 'lens', top: 3, target: 5 });
  assert.equal(view.hooks.length, 4);
  assert.equal(view.positions, T);
  assert.equal(view.topIds.length, 4 * T * 3);
  assert.ok(transfer.includes(view.topIds.buffer as ArrayBuffer));
  for (const id of view.topIds) assert.ok(labels.has(id));
  assert.equal(view.target!.ranks.length, 4 * T);
  assert.equal(labels.get(0), '<s>');
});

test('heads, attribution, ablation and patching through the worker', () => {
  const heads = analyse({ analysis: 'heads' }).view;
  assert.equal(heads.previous_token[2].indexOf(Math.max(...heads.previous_token[2])), 1);
  assert.equal(heads.repeated[0], 0, 'the random sequence starts with <s>');
  const a = analyse({ analysis: 'attribution', target: 5 }).view;
  const sum = a.components.reduce((s, c) => s + c.value, 0) + a.biases.reduce((s, b) => s + b.value, 0);
  assert.ok(Math.abs(sum - a.logit) < 1e-5 * Math.max(1, Math.abs(a.logit)));
  const ab = analyse({ analysis: 'ablation', heads: [{ layer: 2, head: 1 }], top: 2 }).view;
  assert.equal(ab.firstLayer, 2);
  assert.equal(ab.top.length, T);
  assert.ok(ab.loss && ab.loss.delta !== 0);
  const corrupted = [0, 65, 72, 300, 12, 99, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const p = analyse({ analysis: 'patching', corrupted, target: 13, versus: 14, what: 'heads' }).view;
  assert.deepEqual([p.rows, p.cols, p.values.length], [3, 4, 12]);
  assert.throws(() => analyse({ analysis: 'patching', corrupted: [0, 1], target: 13, versus: 14 }), (e: unknown) => isInspectorError(e) && /same length/.test(e.message));
});

test('rollout tiles are never bigger than the cells asked for; the next-token rows are [layer][head][T]', () => {
  const full = analyse({ analysis: 'rollout' }).view;
  assert.equal(full.tiles.length, 3);
  assert.deepEqual([full.tiles[0].rows, full.tiles[0].cols, full.tiles[0].rowStep], [T, T, 1]);
  assert.equal(full.nextToken.length, 3 * 4 * T);
  const small = analyse({ analysis: 'rollout', cells: 5 }).view;
  for (const t of small.tiles) {
    assert.ok(t.rows <= 5 && t.cols <= 5 && t.data.length === t.rows * t.cols);
    // Max pooling: each cell is the largest value of its block in the full-resolution rollout.
    assert.equal(t.data[0], Math.max(...Array.from({ length: t.rowStep }, (_, r) => Array.from({ length: t.colStep }, (_, c) => full.tiles[small.tiles.indexOf(t)].data[r * T + c])).flat()));
  }
  const zoomed = analyse({ analysis: 'rollout', window: { row0: 10, row1: 18, col0: 0, col1: 8 } }).view;
  assert.deepEqual([zoomed.tiles[2].rows, zoomed.tiles[2].cols], [8, 8]);
  assert.equal(zoomed.tiles[2].data[0], full.tiles[2].data[10 * T]);
});
