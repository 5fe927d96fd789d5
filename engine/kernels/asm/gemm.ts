// AssemblyScript (compiled to WebAssembly SIMD by scripts/build.mjs; not TypeScript-checked).
// out[M, N] = A[M, K] · B (+ bias[N]) with B packed into panels of NR = 8 columns and A packed into
// tiles of MR = 4 rows, so the inner loop is 8 f32x4 accumulators (a 4×8 register tile) fed by two
// panel loads and four broadcasts per k. Four, not six: V8 hoists the broadcasts and needs a temporary
// for each multiply before its add, so a 6×8 tile (12 accumulators) spilled four accumulators to the
// stack on every k and a 5×8 tile two, on x64's 16 xmm registers; 4×8 keeps all in registers
// (32 → 43 GFLOP/s per CPU-second at 128×768×768). All pointers are byte addresses into the shared
// memory; the caller (engine/kernels/wasm.ts) allocates every buffer, nothing here allocates.
//   B panels: [ceil(N/8)][K][8] floats (missing columns zero)
//   A tiles:  [ceil(M/4)][K][4] floats (missing rows zero)

import { madd } from './madd';

export const MR: i32 = 4;
export const NR: i32 = 8;
/** k-block of the 16-bit path (gemm_half.ts widens a KC × 8 panel slice, 8 KiB, into its scratch). */
export const KC: i32 = 256;
/**
 * k-block of the f32 gemm: GPT-2's K (768, 3072) in one block, so each output tile is written once, not
 * accumulated per block (a 768-deep panel slice, 24 KiB, stays in L1 while every A tile passes it; 256
 * gave 39.8 GFLOP/s at 128×768·(3072×768)ᵀ, 768 44.3, 3072 44.6).
 */
const KB: i32 = 3072;

/** Pack weight rows B[N, K] (nn.Linear's [out, in]) into 8-column panels p0 ≤ p < p1. */
export function pack_bt(dst: usize, src: usize, N: i32, K: i32, p0: i32, p1: i32): void {
  const row = <usize>K << 2;
  for (let p = p0; p < p1; p++) {
    const d = dst + (<usize>p * <usize>K * 32);
    const j0 = p * NR;
    if (j0 + NR <= N) {
      // Eight row streams read in step; each k writes one contiguous 32-byte panel row.
      const s = src + <usize>j0 * row;
      for (let k = 0; k < K; k++) {
        const o = d + (<usize>k << 5);
        const sk = s + (<usize>k << 2);
        store<f32>(o, load<f32>(sk));
        store<f32>(o, load<f32>(sk + row), 4);
        store<f32>(o, load<f32>(sk + 2 * row), 8);
        store<f32>(o, load<f32>(sk + 3 * row), 12);
        store<f32>(o, load<f32>(sk + 4 * row), 16);
        store<f32>(o, load<f32>(sk + 5 * row), 20);
        store<f32>(o, load<f32>(sk + 6 * row), 24);
        store<f32>(o, load<f32>(sk + 7 * row), 28);
      }
      continue;
    }
    for (let k = 0; k < K; k++) {
      const o = d + (<usize>k << 5);
      for (let l = 0; l < NR; l++) {
        const j = j0 + l;
        store<f32>(o + (l << 2), j < N ? load<f32>(src + <usize>j * row + (<usize>k << 2)) : 0);
      }
    }
  }
}

/** Pack B[K, N] (row-major, the x·W form, e.g. V in P·V) into 8-column panels p0 ≤ p < p1. */
export function pack_b(dst: usize, src: usize, N: i32, K: i32, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const d = dst + <usize>p * <usize>K * 32;
    const j0 = p * NR;
    const cols = min(NR, N - j0);
    for (let k = 0; k < K; k++) {
      const s = src + ((<usize>k * <usize>N + j0) << 2);
      const o = d + (<usize>k << 5);
      if (cols == NR) {
        v128.store(o, v128.load(s));
        v128.store(o, v128.load(s, 16), 16);
      } else {
        for (let l = 0; l < NR; l++) store<f32>(o + (l << 2), l < cols ? load<f32>(s + (l << 2)) : 0);
      }
    }
  }
}

/** Pack A[M, K] rows into 4-row tiles t0 ≤ t < t1 (the rows past M are zeros). */
export function pack_a(dst: usize, src: usize, M: i32, K: i32, t0: i32, t1: i32): void {
  const row = <usize>K << 2;
  for (let t = t0; t < t1; t++) {
    const d = dst + <usize>t * <usize>K * 16;
    const i0 = t * MR;
    if (i0 + MR <= M) {
      const s = src + <usize>i0 * row;
      for (let k = 0; k < K; k++) {
        const o = d + <usize>k * 16;
        const sk = s + (<usize>k << 2);
        store<f32>(o, load<f32>(sk));
        store<f32>(o, load<f32>(sk + row), 4);
        store<f32>(o, load<f32>(sk + 2 * row), 8);
        store<f32>(o, load<f32>(sk + 3 * row), 12);
      }
      continue;
    }
    for (let k = 0; k < K; k++) {
      const o = d + <usize>k * 16;
      for (let r = 0; r < MR; r++) {
        const i = i0 + r;
        store<f32>(o + (r << 2), i < M ? load<f32>(src + <usize>i * row + (<usize>k << 2)) : 0);
      }
    }
  }
}

@inline function lane(v: v128, l: i32): f32 {
  switch (l) {
    case 0: return f32x4.extract_lane(v, 0);
    case 1: return f32x4.extract_lane(v, 1);
    case 2: return f32x4.extract_lane(v, 2);
    default: return f32x4.extract_lane(v, 3);
  }
}

/** Write one row of a tile: c (+)= v0|v1 (+ bias), the first `cols` columns. */
@inline function storeRow(c: usize, v0: v128, v1: v128, cols: i32, accumulate: bool, bias: usize): void {
  if (cols == NR) {
    let x0 = v0;
    let x1 = v1;
    if (accumulate) {
      x0 = f32x4.add(x0, v128.load(c));
      x1 = f32x4.add(x1, v128.load(c, 16));
    }
    if (bias) {
      x0 = f32x4.add(x0, v128.load(bias));
      x1 = f32x4.add(x1, v128.load(bias, 16));
    }
    v128.store(c, x0);
    v128.store(c, x1, 16);
    return;
  }
  for (let l = 0; l < cols; l++) {
    let s: f32 = l < 4 ? lane(v0, l) : lane(v1, l - 4);
    if (accumulate) s += load<f32>(c + (l << 2));
    if (bias) s += load<f32>(bias + (l << 2));
    store<f32>(c + (l << 2), s);
  }
}

/** One 4×8 tile over kc steps: ap walks an A tile slice [kc][4], bp a panel slice [kc][8]. */
export function tile(c: usize, ldc: usize, ap: usize, bp: usize, kc: i32, rows: i32, cols: i32, accumulate: bool, bias: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a = ap;
  let b = bp;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    a += 16;
    b += 32;
  }
  storeRow(c, c00, c01, cols, accumulate, bias);
  if (rows > 1) storeRow(c + ldc, c10, c11, cols, accumulate, bias);
  if (rows > 2) storeRow(c + 2 * ldc, c20, c21, cols, accumulate, bias);
  if (rows > 3) storeRow(c + 3 * ldc, c30, c31, cols, accumulate, bias);
}

/**
 * out[M, N] = A · B (+ bias) for the column panels p0 ≤ p < p1 (a thread's share), from packed A tiles
 * and B panels. bias = 0 for none. Partial sums over k-blocks accumulate in out.
 */
export function gemm(out: usize, aTiles: usize, bPanels: usize, bias: usize, M: i32, N: i32, K: i32, p0: i32, p1: i32): void {
  const tiles = (M + MR - 1) / MR;
  const ldc = <usize>N << 2;
  // Panel outside the k-blocks: its output columns (M rows × 32 bytes) stay in cache across the k-blocks,
  // rather than all of out (the lm_head's 128 × 50257) being read and written again per k-block.
  for (let p = p0; p < p1; p++) {
    const cols = min(NR, N - p * NR);
    for (let k0 = 0; k0 < K; k0 += KB) {
      const kc = min(KB, K - k0);
      const last = k0 + kc == K;
      const bp = bPanels + ((<usize>p * <usize>K + k0) << 5);
      const pb = last && bias ? bias + (<usize>p << 5) : 0;
      for (let t = 0; t < tiles; t++) {
        const ap = aTiles + (<usize>t * <usize>K + k0) * 16;
        const rows = min(MR, M - t * MR);
        tile(out + <usize>t * MR * ldc + (<usize>p << 5), ldc, ap, bp, kc, rows, cols, k0 > 0, pb);
      }
    }
  }
}

/**
 * Few rows (decoding): out[M, N] = x[M, K] · panels (+ bias) for panels p0 ≤ p < p1, one row at a time
 * (x read in place, unpacked). Four panels at once: per k one broadcast, eight panel loads, eight
 * multiply-adds into eight independent accumulators (two per panel would be bound by the latency of one
 * chain: 4 cycles per fused multiply-add). Each output still sums its k in order, so the same bits.
 */
export function gemm_rows(out: usize, x: usize, bPanels: usize, bias: usize, M: i32, N: i32, K: i32, p0: i32, p1: i32): void {
  const ldc = <usize>N << 2;
  const pstride = <usize>K << 5;
  let p = p0;
  for (; p + 4 <= p1; p += 4) {
    const bp = bPanels + <usize>p * pstride;
    for (let m = 0; m < M; m++) {
      const xm = x + <usize>m * (<usize>K << 2);
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
      let b = bp;
      for (let k = 0; k < K; k++) {
        const s = v128.load32_splat(xm + (<usize>k << 2));
        c0 = madd(s, v128.load(b), c0);
        c1 = madd(s, v128.load(b, 16), c1);
        c2 = madd(s, v128.load(b + pstride), c2);
        c3 = madd(s, v128.load(b + pstride, 16), c3);
        c4 = madd(s, v128.load(b + 2 * pstride), c4);
        c5 = madd(s, v128.load(b + 2 * pstride, 16), c5);
        c6 = madd(s, v128.load(b + 3 * pstride), c6);
        c7 = madd(s, v128.load(b + 3 * pstride, 16), c7);
        b += 32;
      }
      const row = out + <usize>m * ldc;
      storeRow(row + (<usize>p << 5), c0, c1, min(NR, N - p * NR), false, bias ? bias + (<usize>p << 5) : 0);
      storeRow(row + (<usize>(p + 1) << 5), c2, c3, min(NR, N - (p + 1) * NR), false, bias ? bias + (<usize>(p + 1) << 5) : 0);
      storeRow(row + (<usize>(p + 2) << 5), c4, c5, min(NR, N - (p + 2) * NR), false, bias ? bias + (<usize>(p + 2) << 5) : 0);
      storeRow(row + (<usize>(p + 3) << 5), c6, c7, min(NR, N - (p + 3) * NR), false, bias ? bias + (<usize>(p + 3) << 5) : 0);
    }
  }
  for (; p < p1; p++) {
    const bp = bPanels + <usize>p * pstride;
    const cols = min(NR, N - p * NR);
    const pb = bias ? bias + (<usize>p << 5) : 0;
    for (let m = 0; m < M; m++) {
      const xm = x + <usize>m * (<usize>K << 2);
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let b = bp;
      for (let k = 0; k < K; k++) {
        const s = v128.load32_splat(xm + (<usize>k << 2));
        c0 = madd(s, v128.load(b), c0);
        c1 = madd(s, v128.load(b, 16), c1);
        b += 32;
      }
      storeRow(out + <usize>m * ldc + (<usize>p << 5), c0, c1, cols, false, pb);
    }
  }
}
