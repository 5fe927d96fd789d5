import { InspectorError } from '../errors';
import type { QuantizedWeight } from './rtn';

/**
 * The packed int32 layouts of the two checkpoint formats people share.
 *
 * AutoGPTQ / GPTQModel (`checkpoint_format: gptq`, the v1 layout; read from auto_gptq's QuantLinear.pack):
 *   qweight [K·b/32, N] int32: input rows k = 32/b·i + j of column n in bits b·j … of qweight[i, n];
 *   qzeros [G, N·b/32] int32: the zero points minus one, packed the same way along the output axis;
 *   scales [G, N] fp16; g_idx [K] int32 (group of each input row; permuted by act-order).
 * AutoAWQ GEMM (WQLinear_GEMM.from_linear):
 *   qweight [K, N·b/32] int32 and qzeros [G, N·b/32] int32 packed along the output axis in the order
 *   0, 2, 4, 6, 1, 3, 5, 7 (slot i of a word holds output column 8·c + ORDER[i]); zeros stored as they are;
 *   scales [G, N] fp16; groups are consecutive (no g_idx).
 * Only bit widths that tile 32 bits (2, 4, 8) are packed this way; 3-bit GPTQ uses a cross-word layout.
 */
export const AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7] as const;

export function checkPackBits(bits: number, format: 'gptq' | 'awq', tensor?: string): number {
  const ok = format === 'awq' ? bits === 4 : bits === 2 || bits === 4 || bits === 8;
  if (!ok) throw new InspectorError(`${format.toUpperCase()} checkpoints are packed here for ${format === 'awq' ? '4' : '2, 4 or 8'} bits, not ${bits}`, { tensor });
  return 32 / bits;
}

export interface PackedGptq {
  qweight: Int32Array; // [K·b/32, N]
  qzeros: Int32Array; // [G, N·b/32]
  scales: Float32Array; // [G, N]
  gIdx: Int32Array; // [K]
}

/** codes (ours, [N, K] with [N, G] grids) → AutoGPTQ's tensors. */
export function packGptq(qw: QuantizedWeight, tensor?: string): PackedGptq {
  const { rows: N, columns: K, bits, groups: G } = qw;
  const per = checkPackBits(bits, 'gptq', tensor);
  if (K % per || N % per) throw new InspectorError(`a ${bits}-bit GPTQ checkpoint needs widths divisible by ${per}, got [${N}, ${K}]`, { tensor });
  const qweight = new Int32Array((K / per) * N);
  for (let k = 0; k < K; k++) {
    const i = Math.floor(k / per);
    const shift = bits * (k % per);
    for (let n = 0; n < N; n++) qweight[i * N + n] |= qw.q[n * K + k] << shift;
  }
  const qzeros = new Int32Array(G * (N / per));
  const scales = new Float32Array(G * N);
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) {
      const z = (qw.zeros[n * G + g] - 1) & ((1 << bits) - 1);
      qzeros[g * (N / per) + Math.floor(n / per)] |= z << (bits * (n % per));
      scales[g * N + n] = qw.scales[n * G + g];
    }
  }
  return { qweight, qzeros, scales, gIdx: Int32Array.from(qw.gIdx) };
}

/** AutoGPTQ's tensors → codes [N, K], zeros [N, G], scales [N, G], g_idx [K]. */
export function unpackGptq(p: PackedGptq, N: number, K: number, G: number, bits: number): QuantizedWeight {
  const per = 32 / bits;
  const mask = (1 << bits) - 1;
  const q = new Int32Array(N * K);
  for (let k = 0; k < K; k++) {
    const i = Math.floor(k / per);
    const shift = bits * (k % per);
    for (let n = 0; n < N; n++) q[n * K + k] = (p.qweight[i * N + n] >>> shift) & mask;
  }
  const zeros = new Int32Array(N * G);
  const scales = new Float32Array(N * G);
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) {
      zeros[n * G + g] = ((p.qzeros[g * (N / per) + Math.floor(n / per)] >>> (bits * (n % per))) & mask) + 1;
      scales[n * G + g] = p.scales[g * N + n];
    }
  }
  return { rows: N, columns: K, bits, groupSize: K / G, q, scales, zeros, gIdx: p.gIdx, groups: G };
}

export interface PackedAwq {
  qweight: Int32Array; // [K, N·b/32]
  qzeros: Int32Array; // [G, N·b/32]
  scales: Float32Array; // [G, N]
}

function packColumns(values: (r: number, n: number) => number, R: number, N: number, bits: number): Int32Array {
  const per = 32 / bits;
  const out = new Int32Array(R * (N / per));
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < N / per; c++) {
      let word = 0;
      for (let i = 0; i < per; i++) word |= values(r, c * per + AWQ_ORDER[i]) << (bits * i);
      out[r * (N / per) + c] = word;
    }
  }
  return out;
}

function unpackColumns(packed: Int32Array, R: number, N: number, bits: number): Int32Array {
  const per = 32 / bits;
  const mask = (1 << bits) - 1;
  const out = new Int32Array(R * N);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < N / per; c++) {
      const word = packed[r * (N / per) + c];
      for (let i = 0; i < per; i++) out[r * N + c * per + AWQ_ORDER[i]] = (word >>> (bits * i)) & mask;
    }
  }
  return out;
}

export function packAwq(qw: QuantizedWeight, tensor?: string): PackedAwq {
  const { rows: N, columns: K, bits, groups: G } = qw;
  const per = checkPackBits(bits, 'awq', tensor);
  if (N % per) throw new InspectorError(`an AWQ checkpoint needs an output width divisible by ${per}, got ${N}`, { tensor });
  const scales = new Float32Array(G * N);
  for (let g = 0; g < G; g++) for (let n = 0; n < N; n++) scales[g * N + n] = qw.scales[n * G + g];
  return {
    qweight: packColumns((k, n) => qw.q[n * K + k], K, N, bits),
    qzeros: packColumns((g, n) => qw.zeros[n * G + g], G, N, bits),
    scales,
  };
}

export function unpackAwq(p: PackedAwq, N: number, K: number, G: number, bits: number): QuantizedWeight {
  const codesKN = unpackColumns(p.qweight, K, N, bits);
  const zerosGN = unpackColumns(p.qzeros, G, N, bits);
  const q = new Int32Array(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) q[n * K + k] = codesKN[k * N + n];
  const zeros = new Int32Array(N * G);
  const scales = new Float32Array(N * G);
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) {
      zeros[n * G + g] = zerosGN[g * N + n];
      scales[n * G + g] = p.scales[g * N + n];
    }
  }
  const gIdx = new Int32Array(K);
  for (let k = 0; k < K; k++) gIdx[k] = Math.floor(k / (K / G));
  return { rows: N, columns: K, bits, groupSize: K / G, q, scales, zeros, gIdx, groups: G };
}
