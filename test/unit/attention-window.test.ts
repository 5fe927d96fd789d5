// Zoom and pan on long attention steps: the engine's window of one head (engine/worker/attention-window.ts),
// through the session on tiny-llama, and the webview's window arithmetic (webview/components/zoom-window.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Tensor } from '../../engine/tensor';
import { causalMask } from '../../engine/nn/mask';
import { attentionWindow } from '../../engine/worker/attention-window';
import { Session } from '../../engine/worker/session';
import type { AttentionWindow, Moved } from '../../protocol/worker';
import { axisIndex, fullWindow, MIN_SPAN, panBy, zoomAt } from '../../webview/components/zoom-window';

const control = { cancelled: () => false, progress: () => {} };

test('a window at full resolution is the head’s entries; a wide one is max-pooled to the cells asked, with a mask tile', () => {
  const H = 2;
  const T = 64;
  const data = new Float32Array(H * T * T).map((_, i) => (i % 97) / 97);
  const t = new Tensor([1, H, T, T], data);
  const mask = causalMask(1, T);
  const w = attentionWindow(
    'blocks.0.attn.hook_pattern',
    t,
    mask,
    1,
    { row0: 8, row1: 16, col0: 4, col1: 12 },
    32,
  );
  assert.equal(w.tile.rowStep, 1);
  assert.equal(w.tile.rows * w.tile.cols, 64);
  assert.equal(w.tile.data[3 * 8 + 5], data[(1 * T + 11) * T + 9], 'head 1, query 11, key 9');
  assert.equal(w.mask?.[0 * 8 + 4], 1, 'query 8 reads key 8');
  assert.equal(w.mask?.[0 * 8 + 5], 0, 'query 8 does not read key 9');
  const before = attentionWindow(
    'blocks.0.attn.hook_pattern',
    t,
    mask,
    1,
    { row0: 16, row1: 24, col0: 0, col1: 8 },
    32,
  );
  assert.equal(before.mask, undefined, 'no mask tile when nothing in the window is masked');
  const wide = attentionWindow('blocks.0.attn.hook_pattern', t, mask, 0, fullWindow(T, T), 16);
  assert.deepEqual([wide.tile.rows, wide.tile.cols, wide.tile.rowStep, wide.tile.colStep], [16, 16, 4, 4]);
  assert.ok(wide.tile.data.length <= 16 * 16, 'never bigger than asked');
  let max = -Infinity;
  for (let q = 0; q < 4; q++) for (let k = 4; k < 8; k++) max = Math.max(max, data[q * T + k]);
  assert.equal(wide.tile.data[1], max, 'each cell the max of its block');
  assert.ok(wide.mask, 'the causal mask shows in the tile');
  assert.equal(wide.mask![0 * 16 + 1], 0, 'queries 0–3 read no key 4–7');
  assert.equal(wide.mask![1 * 16 + 1], 1);
  assert.throws(
    () => attentionWindow('x', t, mask, 2, fullWindow(T, T), 16),
    /has 2 heads; there is no head 2/,
  );
  assert.throws(
    () => attentionWindow('x', t, mask, 0, { row0: 0, row1: 65, col0: 0, col1: 4 }, 16),
    /not inside 64 × 64/,
  );
});

test('the session answers a window of the current pattern step (tiny-llama)', () => {
  const session = new Session();
  session.load(
    resolve('examples/tiny-llama/config.json'),
    { text: 'And God said, Let there be light: and there was light.' },
    'auto',
    control,
  );
  assert.throws(
    () =>
      session.handle(
        { kind: 'attentionWindow', head: 0, window: { row0: 0, row1: 2, col0: 0, col1: 2 }, cells: 8 },
        control,
      ),
    /no current step/,
  );
  const moved = session.handle(
    { kind: 'move', move: { to: 'hook', name: 'blocks.2.attn.hook_pattern' } },
    control,
  ).reply as Moved;
  assert.equal(moved.position.kind, 'step');
  const step = moved.position.kind === 'step' ? moved.position.step : undefined;
  const view = step!.view as Extract<NonNullable<typeof step>['view'], { kind: 'attention' }>;
  const T = view.queries;
  const { reply, transfer } = session.handle(
    { kind: 'attentionWindow', head: 1, window: { row0: 2, row1: T, col0: 0, col1: T }, cells: 512 },
    control,
  );
  const w = reply as AttentionWindow;
  assert.equal(w.name, 'blocks.2.attn.hook_pattern');
  assert.equal(transfer.length, 2, 'the tile and its mask are transferred');
  for (let q = 2; q < T; q++)
    for (let k = 0; k < T; k++)
      assert.equal(w.tile.data[(q - 2) * T + k], view.data[(T + q) * T + k], `query ${q}, key ${k}`);
});

test('zoom about a point keeps it in place; pan and zoom stay inside the grid', () => {
  const w = zoomAt(fullWindow(4096, 4096), 4096, 4096, 2, 0.25, 0.75);
  assert.deepEqual(w, { row0: 1536, row1: 3584, col0: 512, col1: 2560 });
  let z = fullWindow(4096, 4096);
  for (let i = 0; i < 100; i++) z = zoomAt(z, 4096, 4096, 2);
  assert.equal(z.row1 - z.row0, MIN_SPAN, 'zooming stops at the smallest span');
  assert.deepEqual(
    zoomAt(z, 4096, 4096, 1e-6),
    fullWindow(4096, 4096),
    'zooming out stops at the whole grid',
  );
  assert.deepEqual(panBy({ row0: 0, row1: 100, col0: 4000, col1: 4096 }, 4096, 4096, 0.5, -0.5), {
    row0: 0,
    row1: 100,
    col0: 4000,
    col1: 4096,
  });
  assert.deepEqual(panBy({ row0: 100, row1: 200, col0: 0, col1: 100 }, 4096, 4096, 0.5, 0.5), {
    row0: 150,
    row1: 250,
    col0: 50,
    col1: 150,
  });
  // Pixels to cells: 8 pixels over source 0–16 drawn from cells of 4 (the pooled grid), and from a tile at 8.
  assert.deepEqual(Array.from(axisIndex(8, 0, 16, 0, 4, 4)), [0, 0, 1, 1, 2, 2, 3, 3]);
  assert.deepEqual(Array.from(axisIndex(4, 8, 12, 8, 1, 4)), [0, 1, 2, 3]);
});
