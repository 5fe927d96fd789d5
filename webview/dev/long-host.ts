/**
 * The `long` scenario of the dev harness: one attention pattern step of a 4,096-token input, sent
 * as the engine sends it (each head max-pooled to 512 × 512, the full sides in `pooled`), and the
 * zoomed windows answered like engine/worker/attention-window.ts (at most `cells` a side, max
 * pooling, a mask tile). The pattern is a formula, so any window is computed without 16.7 M values
 * per head in memory: head 0 reads the previous token, head 1 itself, head 2 the first token and
 * every 64th, head 3 the same position 2,048 tokens back (an induction-like repeat).
 */
import type { Window } from '../../protocol/analyses';
import type { AttentionWindowTile, ModelInfo, StepInfo } from '../../protocol/webview';
import { computeStats } from '../stats';

export const LONG_T = 4096;
const HEADS = 4;
const SIDE = 512;

/** The spikes of a head at query q: the keys it reads strongly, with their weight (on top of 0.2 / (q + 1)). */
function spikes(head: number, q: number): [number, number][] {
  if (head === 0)
    return q > 0
      ? [
          [q - 1, 0.6],
          [0, 0.2],
        ]
      : [[0, 0.8]];
  if (head === 1) return [[q, 0.7]];
  if (head === 2)
    return [
      [0, 0.5],
      [q - (q % 64), 0.3],
    ];
  return [[q >= 2048 ? q - 2048 : 0, 0.8]];
}

/** The largest weight in queries [q0, q1) × keys [k0, k1), or NaN when the block is all masked (k > q). */
function blockMax(head: number, q0: number, q1: number, k0: number, k1: number): number {
  let best = NaN;
  for (let q = Math.max(q0, k0); q < q1; q++) {
    // The uniform part is largest at the first query that may read the block.
    let v = Math.max(Number.isNaN(best) ? -Infinity : best, 0.2 / (q + 1));
    for (const [k, w] of spikes(head, q)) if (k >= k0 && k < k1 && k <= q) v = Math.max(v, w + 0.2 / (q + 1));
    best = v;
  }
  return best;
}

function tile(head: number, w: Window, cells: number) {
  const rowStep = Math.ceil((w.row1 - w.row0) / cells);
  const colStep = Math.ceil((w.col1 - w.col0) / cells);
  const rows = Math.ceil((w.row1 - w.row0) / rowStep);
  const cols = Math.ceil((w.col1 - w.col0) / colStep);
  const data = new Float32Array(rows * cols);
  const mask = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const q0 = w.row0 + i * rowStep;
    const q1 = Math.min(w.row1, q0 + rowStep);
    for (let j = 0; j < cols; j++) {
      const k0 = w.col0 + j * colStep;
      const v = blockMax(head, q0, q1, k0, Math.min(w.col1, k0 + colStep));
      data[i * cols + j] = Number.isNaN(v) ? 0 : v;
      mask[i * cols + j] = Number.isNaN(v) ? 0 : 1;
    }
  }
  return { rows, cols, rowStep, colStep, data, mask };
}

const words = [
  'In',
  ' the',
  ' beginning',
  ' God',
  ' created',
  ' the',
  ' heaven',
  ' and',
  ' the',
  ' earth',
  '.',
];
const tokens = Array.from({ length: LONG_T }, (_, i) => words[i % words.length]);

export const longModel: ModelInfo = {
  configPath: '/work/examples/long/config.json',
  family: 'llama',
  architecture: 'decoder',
  weights: 'seeded random weights (seed 0)',
  seeded: true,
  tokens,
  ids: tokens.map((_, i) => i % words.length),
  parameterCount: 750464,
  unusedWeights: [],
};

export const longSteps = [{ name: 'blocks.0.attn.hook_pattern', shape: [1, HEADS, LONG_T, LONG_T] }];

let built: StepInfo | undefined;
/** The step, built once. */
export function longStep(): StepInfo {
  built ??= buildStep();
  return built;
}

function buildStep(): StepInfo {
  const f = LONG_T / SIDE;
  const data = new Float32Array(HEADS * SIDE * SIDE);
  let mask: Uint8Array | undefined;
  for (let head = 0; head < HEADS; head++) {
    const t = tile(head, { row0: 0, row1: LONG_T, col0: 0, col1: LONG_T }, SIDE);
    data.set(t.data, head * SIDE * SIDE);
    mask ??= t.mask;
  }
  const label = (i: number) => `${tokens[i * f]}…#${(i + 1) * f - 1}`;
  return {
    index: 0,
    computed: 1,
    done: true,
    name: longSteps[0].name,
    breadcrumb: ['Decoder', 'Block 0', 'Attention', 'Pattern'],
    dims: ['batch', 'head_index', 'query_pos', 'key_pos'],
    shape: longSteps[0].shape,
    explanation: 'softmax(QKᵀ/√d_k + mask) per head, over 4,096 tokens (pooled to 512 × 512 per head).',
    view: {
      kind: 'attention',
      heads: HEADS,
      queries: SIDE,
      keys: SIDE,
      data,
      mask,
      queryLabels: Array.from({ length: SIDE }, (_, i) => label(i)),
      keyLabels: Array.from({ length: SIDE }, (_, i) => label(i)),
      pooled: { queries: LONG_T, keys: LONG_T, queryTile: f, keyTile: f },
    },
    stats: computeStats(data, undefined, 32),
  };
}

/** The host's answer to `requestAttentionWindow`. */
export function longWindow(head: number, window: Window, cells: number): AttentionWindowTile {
  const t = tile(head, window, cells);
  return {
    name: longSteps[0].name,
    head,
    queries: LONG_T,
    keys: LONG_T,
    tile: { rows: t.rows, cols: t.cols, rowStep: t.rowStep, colStep: t.colStep, window, data: t.data },
    mask: t.mask,
  };
}
