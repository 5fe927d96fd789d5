// Small protocol values for the webview tests (not a test file itself).
import type { AttentionView, ModelInfo, StepInfo } from '../../protocol/webview';

export const model: ModelInfo = {
  configPath: '/work/examples/tutorial/config.json',
  family: 'native',
  architecture: 'encoder',
  weights: 'seeded random weights (seed 0)',
  seeded: true,
  tokens: ['3', '1', '4', '1', '5'],
  ids: [3, 1, 4, 1, 5],
  parameterCount: 5088,
  unusedWeights: [],
};

export function matrixStep(index: number, computed = index + 1, done = false): StepInfo {
  return {
    index,
    computed,
    done,
    name: index === 0 ? 'hook_embed' : `blocks.0.hook_resid_pre`,
    breadcrumb: ['Embedding'],
    dims: ['batch', 'pos', 'd_model'],
    shape: [1, 5, 16],
    explanation: 'Token embeddings.',
    view: {
      kind: 'matrix',
      rows: 5,
      cols: 16,
      data: new Float32Array(80).map((_, i) => Math.sin(i)),
      colIndex: Array.from({ length: 16 }, (_, i) => i),
      fullCols: 16,
      rowLabels: model.tokens,
      colName: 'd_model',
    },
    stats: {
      min: -1,
      max: 1,
      mean: 0,
      std: 0.7,
      rowNorms: [1, 2, 3, 4, 5],
      histogram: { edges: [-1, 0, 1], counts: [40, 40] },
    },
  };
}

/** Causal scores: entries above the diagonal are −1e9 and masked. */
export function attentionView(heads = 4, n = 5, scores = false): AttentionView {
  const data = new Float32Array(heads * n * n);
  const mask = new Uint8Array(n * n);
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < n; q++)
      for (let k = 0; k < n; k++) {
        const causal = k <= q;
        mask[q * n + k] = causal ? 1 : 0;
        data[(h * n + q) * n + k] = causal ? (scores ? (h - q + k) * 0.5 : 1 / (q + 1)) : scores ? -1e9 : 0;
      }
  return {
    kind: 'attention',
    heads,
    queries: n,
    keys: n,
    data,
    mask,
    queryLabels: model.tokens,
    keyLabels: model.tokens,
  };
}

export function attentionStep(index: number, heads = 4): StepInfo {
  const view = attentionView(heads);
  return {
    ...matrixStep(index),
    name: 'blocks.0.attn.hook_pattern',
    breadcrumb: ['Encoder', 'Block 0', 'Attention', 'Pattern'],
    dims: ['batch', 'head_index', 'query_pos', 'key_pos'],
    shape: [1, heads, 5, 5],
    view,
  };
}
