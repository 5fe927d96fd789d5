import { inVariant, product, walk } from './tree';
import type { ArchDesc, QuantizationInfo } from './types';

/**
 * Memory of the weights (the task model: the total), per storage format.
 *
 * Uniform formats store every parameter at one width with nothing else (int8/int4 rows are therefore
 * lower bounds for real int8/int4 schemes). Group quantisation (GPTQ/AWQ) stores each weight matrix of
 * the transformer blocks at `bits` per weight plus, per group of `g` input features and per output
 * feature, one fp16 scale and one `bits`-wide zero point; GPTQ adds one int32 group index per input
 * feature (g_idx). Embeddings, the LM head, norms, biases and MoE routers stay at 16 bits.
 */

export interface MemoryRow {
  /** `fp32`, `fp16`, `bf16`, `int8`, `int4`, `int4_g128`, `fp8_block128x128`. */
  readonly key: string;
  readonly label: string;
  readonly bytes: bigint;
  /** This is how the checkpoint stores its weights (from torch_dtype / quantization_config). */
  readonly stored?: boolean;
  readonly note?: string;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

interface Split {
  /** Matrices that quantisers convert: [in, out, copies]. */
  readonly matrices: Array<[bigint, bigint, bigint]>;
  /** Everything else, in parameters. */
  readonly rest: bigint;
  readonly total: bigint;
}

function split(arch: ArchDesc): Split {
  const matrices: Array<[bigint, bigint, bigint]> = [];
  let rest = 0n;
  let total = 0n;
  walk(arch.root, {
    tensor(t, ctx) {
      if (!inVariant(ctx.only, 'task') || t.tiedTo) return;
      const n = product(t.shape) * ctx.paramMult;
      total += n;
      if (t.role === 'weight' && t.matmul && ctx.category !== 'head' && ctx.stream !== 'sequence') {
        matrices.push([t.matmul.in, t.matmul.out, ctx.paramMult]);
      } else rest += n;
    },
  });
  return { matrices, rest, total };
}

function groupQuantBytes(s: Split, bits: number, group: number | null, gIdx: boolean): bigint {
  const b = BigInt(bits);
  let bytes = s.rest * 2n;
  for (const [inF, outF, copies] of s.matrices) {
    const groups = group === null ? 1n : ceilDiv(inF, BigInt(group));
    const q = ceilDiv(inF * outF * b, 8n);
    const scales = groups * outF * 2n;
    const zeros = ceilDiv(groups * outF * b, 8n);
    const idx = gIdx ? inF * 4n : 0n;
    bytes += (q + scales + zeros + idx) * copies;
  }
  return bytes;
}

function fp8BlockBytes(s: Split, block: readonly [number, number] | null): bigint {
  let bytes = s.rest * 2n;
  for (const [inF, outF, copies] of s.matrices) {
    const scales = block ? ceilDiv(outF, BigInt(block[0])) * ceilDiv(inF, BigInt(block[1])) * 4n : 4n;
    bytes += (inF * outF + scales) * copies;
  }
  return bytes;
}

const STORED: Record<string, string> = {
  float32: 'fp32',
  float16: 'fp16',
  bfloat16: 'bf16',
  float: 'fp32',
  half: 'fp16',
};

export function weightMemory(arch: ArchDesc): MemoryRow[] {
  const s = split(arch);
  const q: QuantizationInfo | null = arch.quantization;
  const stored = q ? null : (STORED[arch.storedDtype ?? ''] ?? null);
  const rows: MemoryRow[] = [
    { key: 'fp32', label: 'fp32', bytes: s.total * 4n },
    { key: 'fp16', label: 'fp16', bytes: s.total * 2n },
    { key: 'bf16', label: 'bf16', bytes: s.total * 2n },
    { key: 'int8', label: 'int8 (uniform, no scales)', bytes: s.total },
    { key: 'int4', label: 'int4 (uniform, no scales)', bytes: ceilDiv(s.total, 2n) },
  ].map((r) => (r.key === stored ? { ...r, stored: true } : r));

  const gq = q && (q.method === 'gptq' || q.method === 'awq') ? q : null;
  const bits = gq ? gq.bits : 4;
  const group = gq ? gq.groupSize : 128;
  const method = gq ? gq.method : 'gptq';
  rows.push({
    key: `int${bits}_${group === null ? 'per_channel' : `g${group}`}`,
    label: `${gq ? method.toUpperCase() : 'GPTQ/AWQ-style'} int${bits}, ${group === null ? 'one group per row' : `group ${group}`}`,
    bytes: groupQuantBytes(s, bits, group, method === 'gptq'),
    ...(gq ? { stored: true } : {}),
    note: `block weight matrices at ${bits} bits + an fp16 scale and a ${bits}-bit zero point per group${method === 'gptq' ? ' + int32 g_idx per input feature' : ''}; embeddings, head, norms, biases, routers at 16 bits`,
  });
  if (q && q.method === 'fp8') {
    const blk = q.blockSize;
    rows.push({
      key: blk ? `fp8_block${blk[0]}x${blk[1]}` : 'fp8',
      label: blk ? `fp8, ${blk[0]}×${blk[1]} block scales` : 'fp8, one scale per matrix',
      bytes: fp8BlockBytes(s, blk),
      stored: true,
      note: 'block weight matrices at 8 bits + one fp32 scale per block; the rest at 16 bits',
    });
  }
  return rows;
}
