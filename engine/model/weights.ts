import { Tensor, sameShape, shapeToString, numel } from '../tensor';
import { InspectorError } from '../errors';
import { SafetensorsFile } from '../io/safetensors';
import { fillUniform, hashString } from './rng';
import { halfAllocator } from '../kernels';

/** Where a model's tensors come from: a file (or shards), or seeded random initialisation. */
export interface WeightSource {
  /** A short description for the UI: the file name, or `seeded random weights (seed 0)`. */
  readonly description: string;
  readonly seeded: boolean;
  names(): string[];
  shapeOf(name: string): readonly number[] | undefined;
  read(name: string): Tensor;
  /** The file holding a tensor, for error messages. */
  fileOf(name: string): string | undefined;
  /**
   * Set by a source that holds no tensors and gives each parameter its shape only (the module tree of a
   * recorded trace): the loader hands out `shaped(shape)` instead of reading or seeding.
   */
  shaped?(shape: readonly number[]): Tensor;
}

export class FileWeights implements WeightSource {
  readonly seeded = false;
  private readonly byName = new Map<string, SafetensorsFile>();

  constructor(readonly files: readonly SafetensorsFile[]) {
    for (const f of files) for (const n of f.names()) this.byName.set(n, f);
  }

  get description(): string {
    return this.files.map((f) => f.path).join(', ');
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  shapeOf(name: string): readonly number[] | undefined {
    return this.byName.get(name)?.info(name)?.shape;
  }

  /** A tensor; F16/BF16 matrices stay 16-bit (in the kernels' memory when it exists), the rest fp32. */
  read(name: string): Tensor {
    const f = this.byName.get(name);
    if (!f) throw new InspectorError(`missing tensor`, { tensor: name });
    const info = f.info(name);
    if (info && info.shape.length === 2 && (info.dtype === 'F16' || info.dtype === 'BF16')) {
      return Tensor.fromHalf(info.shape, f.readHalf(name, halfAllocator()));
    }
    return f.read(name);
  }

  /** Bytes of the named tensors as stored (the memory a model built from them needs for its weights). */
  storedBytes(): number {
    let n = 0;
    for (const f of this.files) for (const t of f.tensors.values()) n += t.end - t.begin;
    return n;
  }

  fileOf(name: string): string | undefined {
    return this.byName.get(name)?.path;
  }
}

/** How a parameter is initialised when there is no weights file. */
export type Init =
  | { kind: 'uniform'; fanIn: number }
  | { kind: 'embedding' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  /** Given values (e.g. a fixed sinusoidal table that a family stores as a frozen parameter). */
  | { kind: 'values'; data: Float32Array }
  | { kind: 'zeros' };

/**
 * Hands out the tensors a model asks for, checking each one's shape, remembering which were used,
 * and sharing one Tensor per name (tied weights are one object).
 */
export class WeightLoader {
  private readonly taken = new Map<string, Tensor>();
  /** Names read from the file but deliberately not used as parameters (e.g. shared-layer copies). */
  private readonly acknowledged = new Set<string>();
  private readonly computedNames: string[] = [];

  constructor(
    readonly source: WeightSource | undefined,
    readonly seed: number,
  ) {}

  get seeded(): boolean {
    return this.source === undefined;
  }

  /** The tensor called `name`, of `shape`; from the file if there is one, else seeded. */
  take(name: string, shape: readonly number[], init: Init): Tensor {
    const have = this.taken.get(name);
    if (have) return have;
    const t = this.source?.shaped ? this.source.shaped(shape) : this.source ? this.fromFile(name, shape) : this.seededTensor(name, shape, init);
    this.taken.set(name, t);
    return t;
  }

  has(name: string): boolean {
    return this.source?.shapeOf(name) !== undefined;
  }

  /** Mark a file tensor as accounted for without making it a parameter, after checking it equals `same`. */
  acknowledgeCopy(name: string, same: Tensor, why: string): void {
    if (!this.source || this.source.shapeOf(name) === undefined) return;
    const t = this.fromFile(name, same.shape);
    for (let i = 0; i < t.size; i++) {
      if (t.data[i] !== same.data[i] && !(Number.isNaN(t.data[i]) && Number.isNaN(same.data[i]))) {
        throw new InspectorError(`${why}, but this tensor differs from the one it should repeat`, {
          file: this.source.fileOf(name),
          tensor: name,
        });
      }
    }
    this.acknowledged.add(name);
  }

  /**
   * Account for a buffer the model recomputes (e.g. the tutorial's `pos_encoding.pe` table) after checking
   * it holds the same numbers (as a flat array, within `rtol` of the largest entry): a different layout is a
   * different model, and is refused.
   */
  acknowledgeClose(name: string, expected: Tensor, rtol: number, why: string): void {
    if (!this.source || this.source.shapeOf(name) === undefined) return;
    const t = this.source.read(name);
    let scale = 0;
    for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
    const ok = t.size === expected.size && t.data.every((v, i) => Math.abs(v - expected.data[i]) <= rtol * scale);
    if (!ok) throw new InspectorError(`${why}, but this buffer does not hold that table`, { file: this.source.fileOf(name), tensor: name });
    this.acknowledged.add(name);
  }

  /** Also count a file tensor as used (a buffer the model recomputes, like GPT-2's attn.bias). */
  ignore(name: string): void {
    if (this.source?.shapeOf(name) !== undefined) this.acknowledged.add(name);
  }

  /**
   * A buffer the model computes itself (GPT-2's attn.bias, rotary inv_freq, BERT's position_ids,
   * Marian's final_logits_bias when zero): accepted when the file has it (checked against `expected`
   * when given: a different table is a different model), reported as computed when it does not.
   */
  buffer(name: string, expected?: { values: Tensor; rtol: number; why: string }): void {
    if (!this.source) return;
    if (this.source.shapeOf(name) === undefined) {
      this.computedNames.push(name);
      return;
    }
    if (expected) this.acknowledgeClose(name, expected.values, expected.rtol, expected.why);
    else this.acknowledged.add(name);
  }

  /**
   * A parameter that holds a formula's values (Marian's frozen sinusoid tables): read from the file when
   * there (it must hold those values), else the formula's values, reported as computed — save_pretrained
   * leaves such tables out of the checkpoint.
   */
  takeComputed(name: string, values: Tensor, rtol: number, why: string): Tensor {
    const have = this.taken.get(name);
    if (have) return have;
    if (this.source && this.source.shapeOf(name) !== undefined) {
      this.acknowledgeClose(name, values, rtol, why);
      return this.take(name, values.shape, { kind: 'values', data: values.data });
    }
    if (this.source) this.computedNames.push(name);
    const t = new Tensor(values.shape, new Float32Array(values.data));
    this.taken.set(name, t);
    return t;
  }

  /** Tensors the file left out that the model computed (buffers, formula tables), in order. */
  computed(): string[] {
    return [...this.computedNames];
  }

  /** Parameters in the order they were taken (each tied tensor once). */
  parameters(): Map<string, Tensor> {
    return new Map(this.taken);
  }

  /** File tensors the model did not use. */
  unused(): string[] {
    if (!this.source) return [];
    return this.source.names().filter((n) => !this.taken.has(n) && !this.acknowledged.has(n));
  }

  private fromFile(name: string, shape: readonly number[]): Tensor {
    const src = this.source!;
    const got = src.shapeOf(name);
    if (!got) {
      throw new InspectorError(`missing tensor (expected shape ${shapeToString(shape)})`, {
        file: src.description,
        tensor: name,
      });
    }
    if (!sameShape(got, shape)) {
      throw new InspectorError(`has shape ${shapeToString(got)} but the config implies ${shapeToString(shape)}`, {
        file: src.fileOf(name),
        tensor: name,
      });
    }
    return src.read(name);
  }

  private seededTensor(name: string, shape: readonly number[], init: Init): Tensor {
    const data = new Float32Array(numel(shape));
    const s = hashString(name, this.seed);
    switch (init.kind) {
      case 'uniform':
        // PyTorch's nn.Linear default bound, 1/√fan_in, for weights and biases alike.
        fillUniform(data, 1 / Math.sqrt(init.fanIn), s);
        break;
      case 'embedding':
        // Unit variance, like nn.Embedding's N(0, 1).
        fillUniform(data, Math.sqrt(3), s);
        break;
      case 'ones':
        data.fill(1);
        break;
      case 'constant':
        data.fill(init.value);
        break;
      case 'values':
        data.set(init.data);
        break;
      case 'zeros':
        break;
    }
    return new Tensor(shape, data);
  }
}
