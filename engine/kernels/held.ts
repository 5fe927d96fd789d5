/**
 * F32 weights held once: after a weight's panels are packed into the kernels' memory, the panels are its
 * values. The tensor drops its JavaScript Float32Array (Tensor.releaseValuesTo) and reads the values back
 * from the panels (`unpackPanels`, the same bits) only when JavaScript asks for them (an analysis view, a
 * tied embedding's row gather, a quantizer).
 */

/** asm/gemm.ts's panel width: panels are [ceil(N/8)][K][8] floats, zero-padded past N. */
const NR = 8;

/** W [N, K] (row-major) read back from its packed panels at float index `base` of `f32`. */
export function unpackPanels(f32: Float32Array, base: number, N: number, K: number): Float32Array {
  const out = new Float32Array(N * K);
  const panels = Math.ceil(N / NR);
  for (let p = 0; p < panels; p++) {
    const j0 = p * NR;
    const width = Math.min(NR, N - j0);
    const from = base + p * K * NR;
    for (let j = 0; j < width; j++) {
      const row = (j0 + j) * K;
      let at = from + j;
      for (let k = 0; k < K; k++, at += NR) out[row + k] = f32[at];
    }
  }
  return out;
}
