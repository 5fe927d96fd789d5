import { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import { widenHalf } from '../half';
import { rowKernels } from '../kernels';

/** Token embedding: a lookup table [vocab, d_model], optionally scaled (by √d_model in the 2017 paper). */
export class Embedding {
  constructor(
    readonly weight: Tensor,
    readonly scale = 1,
    /** What the ids are called in error messages (`input ids`, `decoder ids`, `token type ids`). */
    readonly what = 'input ids',
  ) {}

  forward(ids: readonly (readonly number[])[]): Tensor {
    const [V, D] = this.weight.shape;
    const B = ids.length;
    const T = ids[0]?.length ?? 0;
    const out = new Tensor([B, T, D]);
    const kernels = this.weight.half ? rowKernels() : undefined;
    const flat = kernels?.gatherHalf ? new Int32Array(B * T) : undefined;
    for (let b = 0; b < B; b++) {
      if (ids[b].length !== T) {
        throw new InspectorError(`${this.what}: every sequence in a batch must have the same length (${T}); sequence ${b} has ${ids[b].length}`);
      }
      for (let t = 0; t < T; t++) {
        const id = ids[b][t];
        if (!Number.isInteger(id) || id < 0 || id >= V) {
          throw new InspectorError(`${this.what}: id ${id} at position ${t} is outside the vocabulary (0 … ${V - 1})`);
        }
        const off = (b * T + t) * D;
        if (flat) {
          flat[b * T + t] = id; // gathered below by the kernels, once every id is checked
          continue;
        }
        const half = this.weight.half;
        if (half) {
          // A 16-bit table stays 16-bit: widen only the gathered row.
          const dst = out.data.subarray(off, off + D);
          widenHalf({ dtype: half.dtype, bits: half.bits.subarray(id * D, id * D + D) }, dst);
          if (this.scale !== 1) for (let j = 0; j < D; j++) dst[j] *= this.scale;
          continue;
        }
        const row = this.weight.data.subarray(id * D, id * D + D);
        if (this.scale === 1) out.data.set(row, off);
        else for (let j = 0; j < D; j++) out.data[off + j] = row[j] * this.scale;
      }
    }
    if (flat) kernels!.gatherHalf!(out.data, this.weight.half!, flat, D, this.scale);
    return out;
  }
}
