/**
 * A dense fp32 tensor: a row-major Float32Array and its shape.
 * Everything the engine computes is fp32; F16/BF16 weights are widened when read.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  /** The values; undefined only in a subclass whose values are read when first used (a streamed weight). */
  protected values: Float32Array | undefined;

  /** `deferred`: allocate nothing; the subclass's `load` supplies the values when `data` is first read. */
  constructor(shape: readonly number[], data?: Float32Array, deferred = false) {
    const n = numel(shape);
    if (data && data.length !== n) {
      throw new Error(`tensor data has ${data.length} elements but shape [${shape.join(', ')}] needs ${n}`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = n;
    this.values = deferred ? undefined : (data ?? new Float32Array(n));
  }

  get data(): Float32Array {
    return this.values ?? this.load();
  }

  /** Supplies deferred values (see StreamedTensor); a plain tensor always has its values. */
  protected load(): Float32Array {
    throw new Error('tensor has no values');
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Same data, another shape with the same element count (a view, like torch's `view`). */
  view(...shape: number[]): Tensor {
    return new Tensor(shape, this.data);
  }

  clone(): Tensor {
    return new Tensor(this.shape, new Float32Array(this.data));
  }

  static fromArray(shape: readonly number[], values: ArrayLike<number>): Tensor {
    return new Tensor(shape, Float32Array.from(values as ArrayLike<number>));
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Permute a (d0, d1, d2, d3) tensor to (d0, d2, d1, d3): the heads split/merge transpose. */
export function swapAxes12(t: Tensor): Tensor {
  const [a, b, c, d] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.size);
  const src = t.data;
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let k = 0; k < c; k++) {
        const from = ((i * b + j) * c + k) * d;
        const to = ((i * c + k) * b + j) * d;
        out.set(src.subarray(from, from + d), to);
      }
    }
  }
  return new Tensor([a, c, b, d], out);
}
