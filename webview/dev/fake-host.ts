/**
 * A fake extension host for the webview dev harness (out/webview-dev/, not shipped). Defines
 * `acquireVsCodeApi`, applies a theme like VS Code does (body class + --vscode-* variables on
 * <html>), and answers the panel's messages with a tutorial encoder's steps (1 × 5 × 16 tensors,
 * 4 heads of 5 × 5 causal attention) and a parameter table.
 *   index.html?theme=light|dark|hc&scenario=tensor|attention|scores|params|gpt2|empty|error|busy|banner|wide|heads
 */
import { recorded } from './recorded';
import { longModel, longStep, longSteps, longWindow } from './long-host';
import type {
  FromWebview,
  ModelInfo,
  PanelState,
  ParamsInfo,
  StepInfo,
  ToWebview,
} from '../../protocol/webview';
import { computeStats } from '../stats';
import { THEMES } from './themes';

const query = new URLSearchParams(location.search);
const themeName = (query.get('theme') ?? 'dark') as keyof typeof THEMES;
const scenario = query.get('scenario') ?? 'tensor';

// ---- Theme, as VS Code applies it ----
const theme = THEMES[themeName] ?? THEMES.dark;
document.body.classList.add(...theme.classes);
document.body.dataset.vscodeThemeKind = theme.classes[theme.classes.length - 1];
for (const [name, value] of Object.entries(theme.vars))
  document.documentElement.style.setProperty(`--vscode-${name}`, value);
document.addEventListener('securitypolicyviolation', (e) =>
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
);

// ---- Deterministic sample data ----
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return new Float32Array(n).map(
    () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()) * scale,
  );
}

const wide = scenario === 'wide';
const manyHeads = scenario === 'heads';
const tokens = wide
  ? Array.from(
      { length: 64 },
      (_, i) => ['The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dog', '.'][i % 10],
    )
  : manyHeads
    ? Array.from({ length: 24 }, (_, i) => `t${i}`)
    : ['3', '1', '4', '1', '5'];
const T = tokens.length;
const D = wide ? 768 : 16;
const HEADS = manyHeads ? 12 : 4;
const DFF = wide ? 3072 : 32;

const model: ModelInfo = {
  configPath: '/work/main/examples/tutorial/config.json',
  family: 'native',
  architecture: 'encoder',
  weights: scenario === 'gpt2' ? 'gpt2/model.safetensors' : 'seeded random weights (seed 0)',
  seeded: scenario !== 'gpt2',
  tokens,
  ids: tokens.map((_, i) => (i * 7) % 40),
  parameterCount: scenario === 'gpt2' ? 124439808 : 5768,
  unusedWeights: scenario === 'gpt2' ? ['lm_head.weight', 'h.0.attn.bias', 'h.1.attn.bias'] : [],
};

interface Plan {
  name: string;
  shape: number[];
  dims: string[];
  breadcrumb: string[];
  kind: 'matrix' | 'scores' | 'pattern';
  cols: number;
  colName: string;
  explanation: string;
}

function plan(): Plan[] {
  const m = (name: string, breadcrumb: string[], cols = D, colName = 'd_model', explanation = ''): Plan => ({
    name,
    shape: colName === 'head × d_head' ? [1, T, HEADS, cols / HEADS] : [1, T, cols],
    dims: colName === 'head × d_head' ? ['batch', 'pos', 'head_index', 'd_head'] : ['batch', 'pos', colName],
    breadcrumb,
    kind: 'matrix',
    cols,
    colName,
    explanation: explanation || `${breadcrumb[breadcrumb.length - 1]} of each token.`,
  });
  const a = (name: string, breadcrumb: string[], kind: 'scores' | 'pattern', explanation: string): Plan => ({
    name,
    shape: [1, HEADS, T, T],
    dims: ['batch', 'head_index', 'query_pos', 'key_pos'],
    breadcrumb,
    kind,
    cols: T,
    colName: 'key_pos',
    explanation,
  });
  const steps: Plan[] = [
    m(
      'hook_embed',
      ['Embedding', 'Token'],
      D,
      'd_model',
      'Looks up each token id in the embedding matrix W_E (d_vocab × d_model).',
    ),
    m(
      'hook_pos_embed',
      ['Embedding', 'Position'],
      D,
      'd_model',
      'Sinusoidal position encoding added to the token embeddings.',
    ),
  ];
  for (let b = 0; b < 2; b++) {
    const B = ['Encoder', `Block ${b}`];
    steps.push(
      m(`blocks.${b}.hook_resid_pre`, [...B, 'Residual in']),
      m(
        `blocks.${b}.ln1.hook_normalized`,
        [...B, 'LayerNorm 1'],
        D,
        'd_model',
        'Each token normalized to mean 0 and variance 1, then scaled and shifted.',
      ),
      m(`blocks.${b}.attn.hook_q`, [...B, 'Attention', 'Queries'], D, 'head × d_head'),
      m(`blocks.${b}.attn.hook_k`, [...B, 'Attention', 'Keys'], D, 'head × d_head'),
      m(`blocks.${b}.attn.hook_v`, [...B, 'Attention', 'Values'], D, 'head × d_head'),
      a(
        `blocks.${b}.attn.hook_attn_scores`,
        [...B, 'Attention', 'Scores'],
        'scores',
        'q·k / √d_head for every query and key; masked positions are set to −1e9 before the softmax.',
      ),
      a(
        `blocks.${b}.attn.hook_pattern`,
        [...B, 'Attention', 'Pattern'],
        'pattern',
        'Softmax of the scores over the keys: how much each query attends to each key.',
      ),
      m(`blocks.${b}.attn.hook_z`, [...B, 'Attention', 'Mixed values'], D, 'head × d_head'),
      m(`blocks.${b}.hook_attn_out`, [...B, 'Attention out']),
      m(`blocks.${b}.hook_resid_mid`, [...B, 'Residual mid']),
      m(`blocks.${b}.mlp.hook_pre`, [...B, 'MLP', 'Pre-activation'], DFF, 'd_mlp'),
      m(`blocks.${b}.mlp.hook_post`, [...B, 'MLP', 'After ReLU'], DFF, 'd_mlp'),
      m(`blocks.${b}.hook_mlp_out`, [...B, 'MLP out']),
      m(`blocks.${b}.hook_resid_post`, [...B, 'Residual out']),
    );
  }
  steps.push(m('ln_final.hook_normalized', ['Final LayerNorm']));
  return steps;
}

const PLAN = plan();
const MAX_COLS = 512;

function stepInfo(index: number, computed: number): StepInfo {
  const p = PLAN[index];
  const done = computed >= PLAN.length;
  const base = {
    index,
    computed,
    done,
    name: p.name,
    breadcrumb: p.breadcrumb,
    dims: p.dims,
    shape: p.shape,
    explanation: p.explanation,
  };
  if (p.kind === 'matrix') {
    const full = gaussian(T * p.cols, index + 1, p.name.includes('normalized') ? 1 : 0.6);
    if (p.name.includes('hook_post')) full.forEach((v, i) => (full[i] = Math.max(0, v)));
    if (wide) for (let t = 0; t < T; t++) full[t * p.cols + 447] = t === 0 ? 48 : 9; // a massive activation
    const stride = Math.ceil(p.cols / MAX_COLS);
    const colIndex = Array.from({ length: Math.ceil(p.cols / stride) }, (_, i) => i * stride);
    const data = new Float32Array(T * colIndex.length);
    for (let t = 0; t < T; t++)
      colIndex.forEach((c, j) => (data[t * colIndex.length + j] = full[t * p.cols + c]));
    return {
      ...base,
      view: {
        kind: 'matrix',
        rows: T,
        cols: colIndex.length,
        data,
        colIndex,
        fullCols: p.cols,
        rowLabels: tokens,
        colName: p.colName,
      },
      stats: computeStats(full, undefined, 40, T),
    };
  }
  const r = rng(index * 31);
  const mask = new Uint8Array(T * T);
  const data = new Float32Array(HEADS * T * T);
  for (let q = 0; q < T; q++) for (let k = 0; k < T; k++) mask[q * T + k] = k <= q ? 1 : 0;
  for (let h = 0; h < HEADS; h++) {
    for (let q = 0; q < T; q++) {
      const row = Array.from({ length: T }, (_, k) =>
        k <= q ? (r() - 0.5) * 4 + (h === 0 && k === q ? 3 : 0) + (h === 1 && k === 0 ? 3 : 0) : -1e9,
      );
      const max = Math.max(...row);
      const exps = row.map((s) => (s <= -1e8 ? 0 : Math.exp(s - max)));
      const sum = exps.reduce((x, y) => x + y, 0);
      for (let k = 0; k < T; k++) data[(h * T + q) * T + k] = p.kind === 'scores' ? row[k] : exps[k] / sum;
    }
  }
  return {
    ...base,
    view: {
      kind: 'attention',
      heads: HEADS,
      queries: T,
      keys: T,
      data,
      mask,
      queryLabels: tokens,
      keyLabels: tokens,
    },
    stats: computeStats(data, undefined, 40),
  };
}

function row(
  name: string,
  count: number,
  children?: ParamsInfo['rows'],
  note?: string,
): ParamsInfo['rows'][number] {
  return { name, count: String(count), children, note };
}

function params(): ParamsInfo {
  if (scenario === 'gpt2') {
    const block = (i: number) =>
      row(`h.${i}`, 7087872, [
        row('ln_1', 1536, [row('weight', 768), row('bias', 768)]),
        row('attn.c_attn', 1771776, [
          row('weight', 1769472, undefined, '768 × 2304 (Q, K, V)'),
          row('bias', 2304),
        ]),
        row('attn.c_proj', 590592, [row('weight', 589824), row('bias', 768)]),
        row('ln_2', 1536, [row('weight', 768), row('bias', 768)]),
        row('mlp.c_fc', 2362368, [row('weight', 2359296, undefined, '768 × 3072'), row('bias', 3072)]),
        row('mlp.c_proj', 2360064, [row('weight', 2359296), row('bias', 768)]),
      ]);
    return {
      rows: [
        row('wte', 38597376, undefined, '50257 × 768, tied with the unembedding'),
        row('wpe', 786432, undefined, '1024 × 768 learned positions'),
        row(
          'blocks',
          85054464,
          Array.from({ length: 12 }, (_, i) => block(i)),
          '12 × 7,087,872',
        ),
        row('ln_f', 1536),
      ],
      totals: [
        { label: 'Total', count: '124439808', note: 'Tied unembedding counted once.' },
        { label: 'Without embeddings', count: '85056000', note: 'The count the scaling-law papers use.' },
      ],
      memory: [
        { dtype: 'float32', bytes: '497759232' },
        { dtype: 'bfloat16', bytes: '248879616' },
        { dtype: 'int8', bytes: '124439808' },
      ],
      kvCacheBytesPerToken: '36864',
    };
  }
  const block = (b: number) =>
    row(`blocks.${b}`, 2224, [
      row('attn', 1088, [
        row('W_Q', 256),
        row('b_Q', 16),
        row('W_K', 256),
        row('b_K', 16),
        row('W_V', 256),
        row('b_V', 16),
        row('W_O', 256),
        row('b_O', 16),
      ]),
      row('ln1', 32),
      row('mlp', 1072, [row('W_in', 512), row('b_in', 32), row('W_out', 512), row('b_out', 16)]),
      row('ln2', 32),
    ]);
  return {
    rows: [
      row('embed', 640, [row('W_E', 640, undefined, '40 × 16')]),
      row('pos_embed', 0, undefined, 'sinusoidal: no parameters'),
      block(0),
      block(1),
      row('unembed', 680, [row('W_U', 640), row('b_U', 40)]),
    ],
    totals: [
      { label: 'Total', count: '5768' },
      { label: 'Without embeddings', count: '4448', note: 'Embedding and unembedding left out.' },
    ],
    memory: [
      { dtype: 'float32', bytes: '23072' },
      { dtype: 'float16', bytes: '11536' },
    ],
    kvCacheBytesPerToken: '256',
  };
}

// ---- The fake host ----
let computed = 0;
let index = -1;
const send = (m: ToWebview, delay = 0): void => void setTimeout(() => window.postMessage(m, '*'), delay);
const sendStep = (): void =>
  index < 0
    ? send({ type: 'beforeFirstStep', computed, done: computed >= PLAN.length })
    : send({ type: 'step', step: stepInfo(index, computed) });
const goTo = (i: number) => {
  index = Math.max(-1, Math.min(PLAN.length - 1, i));
  computed = Math.max(computed, index + 1);
  sendStep();
};

/** The recorded tiny-llama steps (real engine output), for the `llama*` scenarios. */
const real = scenario.startsWith('llama') ? recorded : undefined;
let realAt = 0;
const realGo = (k: number): void => {
  if (!real) return;
  realAt = Math.max(0, Math.min(real.indices.length - 1, k));
  const step = real.step(real.indices[realAt]);
  if (step) send({ type: 'step', step });
  const q = scenario === 'llama-quant' ? real.quantStep(real.indices[realAt]) : undefined;
  if (q) send({ type: 'quantStep', step: q }, 5);
};

function start(saved?: PanelState): void {
  if (real) {
    send({ type: 'model', model: real.model, steps: real.steps });
    const logits = real.indices.length - 1;
    if (scenario === 'llama-quant' && real.quantReport) {
      send({ type: 'quant', report: real.quantReport });
      send({ type: 'showTab', tab: 'quant' });
      return realGo(Math.max(0, logits - 1));
    }
    if (recordedAnswer) send({ type: 'analysis', ...recordedAnswer }, 120);
    const comparison =
      scenario === 'llama-compare'
        ? real.comparison()
        : scenario === 'llama-compare-models'
          ? real.modelComparison()
          : undefined;
    if (comparison) send({ type: 'comparison', comparison }, 80);
    return realGo(scenario === 'llama' ? logits : Math.max(0, logits - 1));
  }
  if (scenario === 'empty') return send({ type: 'empty', message: 'No model is open.' });
  if (scenario === 'error')
    return send({
      type: 'error',
      message:
        'Tensor blocks.0.attn.W_Q has shape [16, 8] in tutorial.safetensors; the config expects [16, 16] (d_model × n_heads·d_head).',
      where: 'examples/tutorial/tutorial.safetensors',
    });
  if (scenario === 'busy') return send({ type: 'busy', message: 'Loading weights…', progress: 0.42 });
  send({ type: 'model', model, steps: PLAN.map((p) => ({ name: p.name, shape: p.shape })) });
  send({ type: 'params', params: params() });
  const target =
    saved?.stepIndex ??
    (scenario === 'attention' || scenario === 'heads'
      ? PLAN.findIndex((p) => p.kind === 'pattern')
      : scenario === 'scores'
        ? PLAN.findIndex((p) => p.kind === 'scores')
        : scenario === 'wide'
          ? PLAN.findIndex((p) => p.name.endsWith('mlp.hook_pre'))
          : 0);
  goTo(target);
  if (scenario === 'params' || scenario === 'gpt2') send({ type: 'showTab', tab: 'params' }, 10);
  if (scenario === 'banner')
    send(
      {
        type: 'error',
        message: 'The worker stopped: out of memory while computing blocks.1.mlp.hook_pre.',
        where: 'engine worker',
      },
      20,
    );
  if (scenario === 'banner') send({ type: 'busy', message: 'Restarting the engine…' }, 30);
}

/** Tile sizes the panel asked for in the `long` scenario (the checks read them). */
const asked: { cells: number; values: number }[] = [];
(window as unknown as { __TI_ASKED__: typeof asked }).__TI_ASKED__ = asked;

function onMessage(m: FromWebview): void {
  console.log('webview → host', JSON.stringify(m));
  if (scenario === 'long') {
    if (m.type === 'ready') {
      send({ type: 'model', model: longModel, steps: longSteps });
      // Posted here, then marked: the checks time the webview's own work (receiving and drawing)
      // from `__TI_HOST_READY__` on, not this fake host building and serialising the message.
      return void setTimeout(() => {
        window.postMessage({ type: 'step', step: longStep() } satisfies ToWebview, '*');
        (window as unknown as { __TI_HOST_READY__: number }).__TI_HOST_READY__ = performance.now();
      }, 10);
    }
    if (m.type === 'requestAttentionWindow') {
      const w = longWindow(m.head, m.window, m.cells);
      asked.push({ cells: m.cells, values: w.tile.data.length });
      return send({ type: 'attentionWindow', window: w }, 20);
    }
    return;
  }
  if (real && m.type === 'command') {
    if (m.command === 'stepForward' || m.command === 'runToEnd') return realGo(realAt + 1);
    if (m.command === 'stepBack') return realGo(realAt - 1);
  }
  if (real && m.type === 'goToStep') return realGo(real.indices.indexOf(m.index));
  if (real && m.type === 'goToHook')
    return realGo(real.indices.findIndex((i) => real.steps[i].name === m.name));
  if (real && m.type === 'analyse') {
    const a = real.analysis(m.request.analysis);
    if (!a) return send({ type: 'error', message: `nothing recorded for ${m.request.analysis}` });
    send({ type: 'busy', message: 'Running…' });
    return send({ type: 'analysis', ...a }, 60);
  }
  // A patching cell: the Step tab on the recorded patched run; back: the normal step again.
  if (real && m.type === 'openPatchedStep') {
    const step = real.patchedStep();
    if (!step) return send({ type: 'error', message: 'no patched run recorded' });
    send({ type: 'showTab', tab: 'step' });
    return send({ type: 'step', step }, 40);
  }
  if (real && m.type === 'unpatch') return realGo(realAt);
  if (real && m.type === 'requestOverview') return send({ type: 'overview', overview: real.overview() }, 50);
  switch (m.type) {
    case 'ready':
      return start(m.state);
    case 'command':
      switch (m.command) {
        case 'stepForward':
          return goTo(index + 1);
        case 'stepBack':
          return goTo(index - 1);
        case 'reset':
          return goTo(-1);
        case 'runToEnd':
          send({ type: 'busy', message: 'Running to the end…', progress: 0.5 });
          setTimeout(() => goTo(PLAN.length - 1), 300);
          return;
        case 'setInput':
        case 'exportTensor':
          return;
      }
      return;
    case 'goToStep':
      return goTo(m.index);
    case 'goToHook':
      return goTo(PLAN.findIndex((p) => p.name === m.name));
    default:
      return;
  }
}

const STATE_KEY = 'inspector-dev-state';
// `llama-lens`, `llama-heads`, … open the Analyses tab on that analysis (as a restored panel would).
const analysisScenario = /^llama-(lens|attribution|heads|ablation|patching)$/.exec(scenario)?.[1];
if (analysisScenario && !sessionStorage.getItem(STATE_KEY))
  sessionStorage.setItem(STATE_KEY, JSON.stringify({ tab: 'analyses', analysis: analysisScenario }));
// Scenarios that need inputs first get the recorded answer (ablation: the heads chosen in the grid),
// after the model message (which drops the answers of the input before): see start().
const recordedAnswer =
  real && analysisScenario && analysisScenario !== 'lens' && analysisScenario !== 'heads'
    ? real.analysis(analysisScenario as 'attribution')
    : undefined;
(window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
  postMessage: (m: FromWebview) => setTimeout(() => onMessage(m), 0),
  getState: () => JSON.parse(sessionStorage.getItem(STATE_KEY) ?? 'null') ?? undefined,
  setState: (s: PanelState) => sessionStorage.setItem(STATE_KEY, JSON.stringify(s)),
});
