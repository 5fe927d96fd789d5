import { Tensor } from '../tensor';
import { rowKernels } from '../kernels';

/**
 * Rotary position embedding (Su et al. 2021) applied to a [B, T, H, d_head] tensor.
 * - `half`: Hugging Face's `rotate_half` layout used by real Llama/Mistral/Qwen2/Gemma checkpoints:
 *   dimension i is paired with i + d/2, out = x·cos + rotate_half(x)·sin.
 * - `interleaved`: the paper's / GPT-J's / Meta's original complex form: pairs (2i, 2i+1).
 * - `tutorial_neg`: a widely copied tutorial snippet, `x1·cos + x2·sin, x2·cos − x1·sin` on interleaved
 *   pairs: a rotation by −θ. Scores still depend only on relative offsets, but real weights expect +θ,
 *   so this is offered only as a labelled teaching variant.
 * inv_freq_i = θ^(−2i/d) over the rotated dims d = rotaryDim (partial_rotary_factor · d_head).
 */
export type RopeLayout = 'half' | 'interleaved' | 'tutorial_neg';

export interface RopeSpec {
  layout: RopeLayout;
  theta: number;
  /** Dims of each head that are rotated (the rest pass through): d_head × partial_rotary_factor. */
  rotaryDim: number;
}

/** inv_freq [rotaryDim/2]: 1 / θ^(2i/d) in fp32, as Hugging Face computes it (and stores it in old checkpoints). */
export function ropeInvFreq(spec: RopeSpec): Float32Array {
  const half = spec.rotaryDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) out[i] = Math.fround(1 / Math.fround(Math.pow(spec.theta, Math.fround((2 * i) / spec.rotaryDim))));
  return out;
}

/** cos/sin tables [T, rotaryDim/2] for positions offset … offset+T−1, computed in fp32 like PyTorch. */
export function ropeTables(spec: RopeSpec, T: number, offset = 0): { cos: Float32Array; sin: Float32Array } {
  const half = spec.rotaryDim / 2;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  const inv = ropeInvFreq(spec);
  for (let i = 0; i < half; i++) {
    const invFreq = inv[i];
    for (let t = 0; t < T; t++) {
      const angle = Math.fround((t + offset) * invFreq);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Which dims a layout pairs, chosen once per call (no branch in the loop): pair i is (step·i,
 * step·i + partner); `sign` −1 rotates by −θ (the tutorial variant).
 */
const ROPE_PAIRS = {
  half: (half: number) => ({ step: 1, partner: half, sign: 1 }),
  interleaved: () => ({ step: 2, partner: 1, sign: 1 }),
  tutorial_neg: () => ({ step: 2, partner: 1, sign: -1 }),
} satisfies Record<RopeLayout, (half: number) => { step: number; partner: number; sign: number }>;

/** Rotate q or k [B, T, H, d_head] by position; returns a new tensor. */
export function applyRope(x: Tensor, spec: RopeSpec, offset = 0): Tensor {
  const [B, T, H, D] = x.shape as [number, number, number, number];
  const R = spec.rotaryDim;
  const half = R / 2;
  const { cos, sin } = ropeTables(spec, T, offset);
  const { step, partner, sign } = ROPE_PAIRS[spec.layout](half);
  const kernels = rowKernels();
  if (kernels.rope) {
    const fast = new Tensor(x.shape);
    kernels.rope(fast.data, x.data, cos, sin, { rows: B * T, T, H, D, half }, step, partner, sign);
    return fast;
  }
  const out = new Tensor(x.shape, new Float32Array(x.data));
  const src = x.data;
  const dst = out.data;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * D;
        for (let i = 0; i < half; i++) {
          const c = cos[t * half + i];
          const s = sin[t * half + i];
          const a = o + step * i;
          const bIdx = a + partner;
          const x1 = src[a];
          const x2 = src[bIdx];
          dst[a] = x1 * c - sign * x2 * s;
          dst[bIdx] = x2 * c + sign * x1 * s;
        }
      }
    }
  }
  return out;
}
