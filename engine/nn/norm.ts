import { Tensor } from '../tensor';
import { rowKernels } from '../kernels';

/** The normalisations a block can use; one tagged union, resolved once when the model is built. */
export type NormSpec =
  | { kind: 'layernorm'; eps: number; bias: boolean }
  | { kind: 'rmsnorm'; eps: number; /** Gemma stores g − 1 and multiplies by (1 + g). */ gainOffset: 0 | 1 }
  | { kind: 'scalenorm'; eps: number };

export interface Norm {
  readonly spec: NormSpec;
  forward(x: Tensor): Tensor;
}

export function normParamShapes(spec: NormSpec, d: number): { weight: number[]; bias?: number[] } {
  switch (spec.kind) {
    case 'layernorm':
      return spec.bias ? { weight: [d], bias: [d] } : { weight: [d] };
    case 'rmsnorm':
      return { weight: [d] };
    case 'scalenorm':
      return { weight: [1] };
  }
}

export class LayerNorm implements Norm {
  constructor(
    readonly spec: NormSpec & { kind: 'layernorm' },
    readonly weight: Tensor,
    readonly bias?: Tensor,
  ) {}

  forward(x: Tensor): Tensor {
    const n = x.shape[x.rank - 1];
    const out = new Tensor(x.shape);
    rowKernels().layerNormRows(out.data, x.data, x.size / n, n, this.spec.eps, this.weight.data, this.bias?.data);
    return out;
  }
}

export class RMSNorm implements Norm {
  constructor(
    readonly spec: NormSpec & { kind: 'rmsnorm' },
    readonly weight: Tensor,
  ) {}

  forward(x: Tensor): Tensor {
    const n = x.shape[x.rank - 1];
    const out = new Tensor(x.shape);
    rowKernels().rmsNormRows(out.data, x.data, x.size / n, n, this.spec.eps, this.weight.data, this.spec.gainOffset);
    return out;
  }
}

/** ScaleNorm (Nguyen & Salazar 2019): g · x / max(‖x‖, eps), one learned scalar g. */
export class ScaleNorm implements Norm {
  constructor(
    readonly spec: NormSpec & { kind: 'scalenorm' },
    readonly weight: Tensor,
  ) {}

  forward(x: Tensor): Tensor {
    const n = x.shape[x.rank - 1];
    const out = new Tensor(x.shape);
    const g = this.weight.data[0];
    for (let r = 0; r < x.size / n; r++) {
      let ss = 0;
      for (let j = 0; j < n; j++) ss += x.data[r * n + j] ** 2;
      const scale = g / Math.max(Math.sqrt(ss), this.spec.eps);
      for (let j = 0; j < n; j++) out.data[r * n + j] = x.data[r * n + j] * scale;
    }
    return out;
  }
}

export function makeNorm(spec: NormSpec, weight: Tensor, bias?: Tensor): Norm {
  switch (spec.kind) {
    case 'layernorm':
      return new LayerNorm(spec, weight, bias);
    case 'rmsnorm':
      return new RMSNorm(spec, weight);
    case 'scalenorm':
      return new ScaleNorm(spec, weight);
  }
}
