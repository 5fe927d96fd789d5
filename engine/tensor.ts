import { widenHalf, type HalfStorage } from './half';

/**
 * A dense fp32 tensor: a row-major Float32Array and its shape. Everything the engine computes is fp32.
 * Two kinds of weight hold their values lazily: a weight kept in its stored F16/BF16 dtype (`half`: the
 * kernels read those bits directly, and `data` widens them to fp32 only when something asks for the
 * values), and a streamed weight (a subclass whose `load` reads its layer from disk when first used).
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  /** The 16-bit storage of a weight kept in its stored dtype (dropped once its fp32 values are written). */
  get half(): HalfStorage | undefined {
    return this.halfBits;
  }
  private halfBits?: HalfStorage;
  /** The fp32 values; undefined while deferred (a streamed weight) or not yet widened (a 16-bit one). */
  protected values: Float32Array | undefined;

  /**
   * Values that come and go (a streamed weight, released and read again into a reused buffer): kernels
   * must not keep packed copies of them, which would outlive the values and double the memory held.
   */
  get transient(): boolean {
    return false;
  }

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

  /** A tensor over 16-bit storage (a weight in its stored dtype); fp32 values appear on first `data` read. */
  static fromHalf(shape: readonly number[], half: HalfStorage): Tensor {
    const n = numel(shape);
    if (half.bits.length !== n) throw new Error(`16-bit data has ${half.bits.length} elements but shape [${shape.join(', ')}] needs ${n}`);
    const t = new Tensor(shape, undefined, true);
    t.halfBits = half;
    return t;
  }

  /** The fp32 values (widened once from the 16-bit storage, or loaded by a subclass, when first read). */
  get data(): Float32Array {
    return (this.values ??= this.heldBy ? this.heldBy() : this.load());
  }

  /** Reads the values back from where a kernel holds them (its packed panels), once they are dropped here. */
  private heldBy?: () => Float32Array;
  /** Another tensor (a view) shares these values: they are never dropped, writes through either must stay visible to both. */
  private sharesValues = false;

  /**
   * A kernel now holds this weight's values (F32, as packed panels): drop the JavaScript copy, so they
   * are held once; `data` reads them back through `readBack` (the same bits) when JavaScript needs them.
   * Only a plain fp32 tensor (not 16-bit, streamed, recorded or held by a trace) lets go; returns
   * whether it did. Writers call `keepFp32Only` (through `weightsChanged`), which keeps the values here.
   */
  releaseValuesTo(readBack: () => Float32Array): boolean {
    if (Object.getPrototypeOf(this) !== Tensor.prototype || this.halfBits || !this.values || this.sharesValues) return false;
    this.heldBy = readBack;
    this.values = undefined;
    return true;
  }

  /** Supplies deferred values: a 16-bit tensor widens its bits; a streamed weight (subclass) reads them. */
  protected load(): Float32Array {
    if (this.half) return widenHalf(this.half);
    throw new Error('tensor has no values');
  }

  /**
   * The fp32 values are about to be written in place, and from then on they are the truth: a 16-bit
   * storage is dropped so no kernel reads the old bits. (Packed copies are dropped by the kernels'
   * `weightsChanged`, which calls this.)
   */
  keepFp32Only(): Float32Array {
    const v = this.data;
    this.halfBits = undefined;
    this.heldBy = undefined;
    return v;
  }

  /** Bytes held now: the 16-bit storage, plus the fp32 values if they have been widened or loaded. */
  get heldBytes(): number {
    return (this.half?.bits.byteLength ?? 0) + (this.values?.byteLength ?? 0);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Same data, another shape with the same element count (a view, like torch's `view`). */
  view(...shape: number[]): Tensor {
    const t = new Tensor(shape, this.data);
    t.sharesValues = this.sharesValues = true;
    return t;
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
