import { Tensor } from '../tensor';
import { matmulKernel } from '../kernels';

/** y = x·Wᵀ + b over the last axis; W is stored [out, in] as PyTorch's nn.Linear stores it. */
export class Linear {
  constructor(
    readonly weight: Tensor,
    readonly bias?: Tensor,
  ) {}

  get inFeatures(): number {
    return this.weight.shape[1];
  }

  get outFeatures(): number {
    return this.weight.shape[0];
  }

  /** The parameter tensors (weight, then bias if any). */
  tensors(): Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  forward(x: Tensor): Tensor {
    const K = this.inFeatures;
    const N = this.outFeatures;
    const lead = x.shape.slice(0, -1);
    if (x.shape[x.rank - 1] !== K) {
      throw new Error(`Linear expects last axis ${K}, got [${x.shape.join(', ')}]`);
    }
    const M = x.size / K;
    const out = new Tensor([...lead, N]);
    const kernel = matmulKernel();
    const half = this.weight.half;
    if (half && kernel.linearHalf) kernel.linearHalf(out.data, x.data, half, M, N, K, this.bias?.data);
    // A streamed weight is packed per call, not cached: its values are released with its layer.
    else if (this.weight.transient) kernel.matmulBT(out.data, x.data, this.weight.data, M, N, K, this.bias?.data);
    else if (kernel.linearHeld) kernel.linearHeld(out.data, x.data, this.weight, M, N, K, this.bias?.data);
    else kernel.linear(out.data, x.data, this.weight.data, M, N, K, this.bias?.data);
    return out;
  }
}

export function add(a: Tensor, b: Tensor): Tensor {
  const out = new Tensor(a.shape);
  const o = out.data;
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < o.length; i++) o[i] = x[i] + y[i];
  return out;
}
