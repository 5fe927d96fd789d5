import { widenHalf, type HalfStorage } from './half';

/**
 * A dense fp32 tensor: a row-major Float32Array and its shape. Everything the engine computes is fp32.
 * A weight loaded from an F16/BF16 checkpoint may instead keep its 16-bit bits (`half`): the kernels read
 * those directly, and `data` widens them to fp32 only when something asks for the values.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  /** The 16-bit storage of a weight kept in its stored dtype. */
  readonly half?: HalfStorage;
  private f32?: Float32Array;

  constructor(shape: readonly number[], data?: Float32Array) {
    const n = numel(shape);
    if (data && data.length !== n) {
      throw new Error(`tensor data has ${data.length} elements but shape [${shape.join(', ')}] needs ${n}`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = n;
    this.f32 = data ?? new Float32Array(n);
  }

  /** A tensor over 16-bit storage (a weight in its stored dtype); fp32 values appear on first `data` read. */
  static fromHalf(shape: readonly number[], half: HalfStorage): Tensor {
    const n = numel(shape);
    if (half.bits.length !== n) throw new Error(`16-bit data has ${half.bits.length} elements but shape [${shape.join(', ')}] needs ${n}`);
    const t = Object.create(Tensor.prototype) as { -readonly [K in keyof Tensor]: Tensor[K] };
    t.shape = Object.freeze([...shape]);
    t.size = n;
    t.half = half;
    return t as Tensor;
  }

  /** The fp32 values (widened once from the 16-bit storage, if that is what the tensor holds). */
  get data(): Float32Array {
    return (this.f32 ??= widenHalf(this.half!));
  }

  /** Bytes held now: the 16-bit storage, plus the fp32 values if they have been widened. */
  get heldBytes(): number {
    return (this.half?.bits.byteLength ?? 0) + (this.f32?.byteLength ?? 0);
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
