import { InspectorError } from '../errors';
import type { Norm } from '../nn/norm';
import type { Tensor } from '../tensor';

/**
 * The final norm with its scale frozen at the actual run, as TransformerLens's direct logit attribution
 * does: for one residual row r, LayerNorm(x) = (x − mean(x)) · s · w + b with s = 1/√(var(r) + eps) fixed,
 * which is linear in x, so every component of r can be pushed through on its own and the parts (plus the
 * norm's bias) add up to the norm of the whole. RMSNorm: x · s · g, s = 1/√(mean(r²) + eps); ScaleNorm:
 * x · g / max(‖r‖, eps). With no final norm the map is the identity.
 */
export interface FrozenNorm {
  /** The scale s frozen from the residual row. */
  readonly scale: number;
  /** out = the frozen norm's linear part applied to c (length d_model), float64. */
  apply(c: ArrayLike<number>, out: Float64Array): Float64Array;
  /** The additive part (LayerNorm's bias), or undefined. */
  readonly bias?: Float32Array;
}

export function freezeNorm(norm: Norm | undefined, resid: Tensor, row: number): FrozenNorm {
  const D = resid.shape[resid.rank - 1];
  const r = resid.data.subarray(row * D, (row + 1) * D);
  if (!norm) {
    return { scale: 1, apply: (c, out) => copyInto(c, out) };
  }
  const spec = norm.spec;
  const weight = (norm as unknown as { weight: Tensor }).weight.data;
  switch (spec.kind) {
    case 'layernorm': {
      let mean = 0;
      for (let j = 0; j < D; j++) mean += r[j];
      mean /= D;
      let v = 0;
      for (let j = 0; j < D; j++) v += (r[j] - mean) ** 2;
      const s = 1 / Math.sqrt(v / D + spec.eps);
      const bias = (norm as unknown as { bias?: Tensor }).bias?.data;
      return {
        scale: s,
        bias,
        apply(c, out) {
          let m = 0;
          for (let j = 0; j < D; j++) m += c[j];
          m /= D;
          for (let j = 0; j < D; j++) out[j] = (c[j] - m) * s * weight[j];
          return out;
        },
      };
    }
    case 'rmsnorm': {
      let ss = 0;
      for (let j = 0; j < D; j++) ss += r[j] * r[j];
      const s = 1 / Math.sqrt(ss / D + spec.eps);
      const off = spec.gainOffset;
      return {
        scale: s,
        apply(c, out) {
          for (let j = 0; j < D; j++) out[j] = c[j] * s * (off + weight[j]);
          return out;
        },
      };
    }
    case 'scalenorm': {
      let ss = 0;
      for (let j = 0; j < D; j++) ss += r[j] * r[j];
      const s = weight[0] / Math.max(Math.sqrt(ss), spec.eps);
      return { scale: s, apply: (c, out) => scaleInto(c, s, out) };
    }
    default:
      throw new InspectorError(`direct logit attribution cannot freeze a ${(spec as { kind: string }).kind} norm`);
  }
}

function copyInto(c: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let j = 0; j < out.length; j++) out[j] = c[j];
  return out;
}

function scaleInto(c: ArrayLike<number>, s: number, out: Float64Array): Float64Array {
  for (let j = 0; j < out.length; j++) out[j] = c[j] * s;
  return out;
}
