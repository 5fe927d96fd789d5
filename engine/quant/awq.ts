import { quantizeRtn, dequantize, checkGrid, findParams, quantizeValue, type GridOptions, type QuantizedWeight } from './rtn';

/**
 * AWQ (Lin et al. 2023), following the authors' reference (mit-han-lab/llm-awq, `auto_scale.py` and
 * `auto_clip.py`):
 * - s_X = mean |x| per input channel over the calibration tokens; for α = 0, 1/20, …, 19/20:
 *   s = max(s_X^α, 1e-4), s ← s/√(max s · min s); Ŵ = Q(W·diag(s))·diag(s)⁻¹; keep the α whose output
 *   mean squared error over the layers that share this input (q/k/v, gate/up) is smallest.
 * - Clipping: per output row and group, the range ±max|w|·(1 − i/20), i = 0…9, that minimises the group's
 *   output error on (up to 512 of) the scaled inputs X·diag(s)⁻¹. The reference skips q and k here.
 * The codes quantize W·diag(s); s is kept as the layer's input scale (folded into the preceding norm or
 * linear in a checkpoint), so ŵ = Q(W·diag(s))/s.
 */
export interface AwqResult {
  alpha: number;
  inputScale: Float32Array;
  weights: QuantizedWeight[];
}

const N_GRID = 20;

/** Mean |x| per input channel, x [M, K]. */
export function activationScale(x: Float32Array, M: number, K: number): Float64Array {
  const s = new Float64Array(K);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) s[k] += Math.abs(x[m * K + k]);
  for (let k = 0; k < K; k++) s[k] /= M;
  return s;
}

function scaled(w: Float32Array, N: number, K: number, s: Float32Array): Float32Array {
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[n * K + k] = w[n * K + k] * s[k];
  return out;
}


/** XᵀX [K, K] in float64 (x [M, K]). */
function gram(x: Float32Array, M: number, K: number): Float64Array {
  const G = new Float64Array(K * K);
  for (let m = 0; m < M; m++) {
    const xo = m * K;
    for (let i = 0; i < K; i++) {
      const xi = x[xo + i];
      if (xi === 0) continue;
      for (let j = 0; j <= i; j++) G[i * K + j] += xi * x[xo + j];
    }
  }
  for (let i = 0; i < K; i++) for (let j = 0; j < i; j++) G[j * K + i] = G[i * K + j];
  return G;
}

/**
 * Search α for the layers reading x [M, K]; weights are [N_i, K]. The loss is the outputs' mean squared
 * error Σ‖X(W − Ŵ)ᵀ‖²/(M·N), computed as Σ_n d_n·XᵀX·d_nᵀ with d = W − Ŵ: the same number as the reference's
 * `(org_out - out).pow(2).mean()`, at K² instead of M·K per output channel.
 */
export function awqSearchScale(x: Float32Array, M: number, K: number, weights: { w: Float32Array; N: number }[], grid: GridOptions, gridPoints = N_GRID): { alpha: number; scale: Float32Array } {
  const sX = activationScale(x, M, K);
  const G = gram(x, M, K);
  const d = new Float64Array(K);
  let best = { alpha: 0, scale: new Float32Array(K).fill(1), loss: Infinity };
  for (let r = 0; r < gridPoints; r++) {
    const alpha = r / N_GRID;
    const s = new Float32Array(K);
    let max = -Infinity;
    let min = Infinity;
    for (let k = 0; k < K; k++) {
      s[k] = Math.max(Math.pow(sX[k], alpha), 1e-4);
      max = Math.max(max, s[k]);
      min = Math.min(min, s[k]);
    }
    const norm = Math.sqrt(max * min);
    for (let k = 0; k < K; k++) s[k] /= norm;
    let se = 0;
    let count = 0;
    for (const { w, N } of weights) {
      const deq = dequantize({ ...quantizeRtn(scaled(w, N, K, s), N, K, grid), inputScale: s });
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) d[k] = w[n * K + k] - deq[n * K + k];
        let e = 0;
        for (let i = 0; i < K; i++) {
          // G is symmetric: dᵀGd = Σ_i d_i (G_ii d_i + 2 Σ_{j<i} G_ij d_j).
          let v = 0;
          const gi = i * K;
          for (let j = 0; j < i; j++) v += G[gi + j] * d[j];
          e += d[i] * (G[gi + i] * d[i] + 2 * v);
        }
        se += e;
      }
      count += M * N;
    }
    const loss = se / count;
    if (loss < best.loss) best = { alpha, scale: s, loss };
  }
  return { alpha: best.alpha, scale: best.scale };
}

/**
 * The clipping search on ws = W·diag(s) [N, K] with xs = X·diag(s)⁻¹ [M, K]: returns ws clipped to the
 * best range per (row, group).
 */
export function awqClip(ws: Float32Array, N: number, K: number, xs: Float32Array, M: number, grid: GridOptions, maxTokens = 512): Float32Array {
  const g = checkGrid(grid, K);
  const G = K / g;
  const step = Math.max(1, Math.floor(M / maxTokens));
  let count = 0;
  // Per group j, the Gram matrix of its sampled inputs [g, g]: a group output's squared error over the
  // tokens is dᵀ·Gj·d with d = w − q (the reference sums (x·q − x·w)² token by token: the same number).
  const grams = new Float64Array(G * g * g);
  for (let m = 0; m < M; m += step) {
    count++;
    for (let j = 0; j < G; j++) {
      const xo = m * K + j * g;
      const go = j * g * g;
      for (let a = 0; a < g; a++) {
        const xa = xs[xo + a];
        for (let b = 0; b <= a; b++) grams[go + a * g + b] += xa * xs[xo + b];
      }
    }
  }
  for (let j = 0; j < G; j++) for (let a = 0; a < g; a++) for (let b = 0; b < a; b++) grams[j * g * g + b * g + a] = grams[j * g * g + a * g + b];
  const out = Float32Array.from(ws);
  const piece = new Float32Array(g);
  const cand = new Float32Array(g);
  const d = new Float64Array(g);
  const maxq = 2 ** grid.bits - 1;
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < G; j++) {
      const off = n * K + j * g;
      const go = j * g * g;
      let orgMax = 0;
      for (let t = 0; t < g; t++) {
        piece[t] = ws[off + t];
        orgMax = Math.max(orgMax, Math.abs(piece[t]));
      }
      let bestErr = 1e9;
      let bestMax = orgMax;
      for (let i = 0; i < N_GRID / 2; i++) {
        const maxVal = Math.fround(orgMax * Math.fround(1 - i / N_GRID)); // torch: a float32 tensor times a float32 scalar
        for (let t = 0; t < g; t++) cand[t] = Math.min(Math.max(piece[t], -maxVal), maxVal);
        const { scale, zero } = findParams(cand, 0, g, maxq, grid.sym);
        for (let t = 0; t < g; t++) d[t] = Math.fround(scale * (quantizeValue(cand[t], scale, zero, maxq) - zero)) - piece[t];
        let err = 0;
        for (let a = 0; a < g; a++) {
          let v = 0;
          for (let b = 0; b < g; b++) v += grams[go + a * g + b] * d[b];
          err += d[a] * v;
        }
        err /= count;
        if (err < bestErr) {
          bestErr = err;
          bestMax = maxVal;
        }
      }
      for (let t = 0; t < g; t++) out[off + t] = Math.min(Math.max(piece[t], -bestMax), bestMax);
    }
  }
  return out;
}

/**
 * AWQ for the layers sharing one input: scale search (unless `scaleSearch` is false: s = 1, as for layers
 * whose scale could not be folded into a checkpoint), then (unless `clip` is false or the layer is q/k)
 * clipping.
 */
export function awqQuantize(
  x: Float32Array,
  M: number,
  K: number,
  layers: { name: string; w: Float32Array; N: number }[],
  grid: GridOptions,
  clip = true,
  scaleSearch = true,
): AwqResult {
  for (const l of layers) checkGrid(grid, K, l.name);
  const { alpha, scale } = awqSearchScale(x, M, K, layers, grid, scaleSearch ? N_GRID : 1);
  let xs: Float32Array | undefined;
  const weights = layers.map(({ name, w, N }) => {
    let ws = scaled(w, N, K, scale);
    if (clip && !/(^|\.)(q_|k_|query|key|Wqkv)/.test(name.split('.').pop() ?? '')) {
      if (!xs) {
        xs = new Float32Array(M * K);
        for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) xs[m * K + k] = x[m * K + k] / scale[k];
      }
      ws = awqClip(ws, N, K, xs, M, grid);
    }
    return { ...quantizeRtn(ws, N, K, grid, name), inputScale: scale };
  });
  return { alpha, inputScale: scale, weights };
}
