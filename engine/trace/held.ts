import { Tensor } from '../tensor';

/**
 * A traced tensor kept by a TraceStore. While resident it is a plain fp32 tensor; once its layer is
 * evicted it holds no values, and the next read of `data` asks the store to recompute its layer (from
 * the kept input residual) and refill it. The shape is always known, so listing steps never recomputes.
 * Whoever read `data` before the eviction keeps that array: nothing shown is ever stale or missing.
 */
export class HeldTensor extends Tensor {
  constructor(
    shape: readonly number[],
    data: Float32Array,
    private readonly restore: (t: HeldTensor) => Float32Array,
  ) {
    super(shape, data);
  }

  /** The values, if resident, without recomputing anything. */
  get resident(): Float32Array | undefined {
    return this.values;
  }

  /** Drop the values (the store counts the bytes). */
  evict(): void {
    this.values = undefined;
  }

  /** Take the recomputed values of this step. */
  refill(values: Float32Array): void {
    if (values.length !== this.size)
      throw new Error(`refill: ${values.length} values for a tensor of ${this.size}`);
    this.values = values;
  }

  protected override load(): Float32Array {
    const v = this.restore(this);
    if (this.values !== v) throw new Error('a restored trace tensor did not take its values');
    return v;
  }
}
