// AssemblyScript. FlashAttention-style attention for heads h0 ≤ bh < h1 (a thread's share): each query
// row streams the keys in tiles of FT, keeping a running maximum m, a running sum l (f64) and an
// unnormalised output row; no Tq × Tk matrix is built. Scratch per thread (at scratch + slot · bytes):
// FT scores and dv accumulators. The mask is given as rules, not a matrix (O(T) memory):
//   causal (key ≤ query), window W > 0 (|query − key| < W), chunk C > 0 (same ⌊pos / C⌋),
//   stride S > 0 (|query − key| < S or a multiple of S), valid [B, Tk] bytes (0 = padding; address 0 = none).
// Queries sit at absolute positions Tk − Tq … Tk − 1. A masked score is `fill` (−1e9, as the
// TypeScript flash and the plain path), so a fully masked row averages V as they do.
// Layouts as attention.ts: q [B·H, Tq, dk], k [B·Hkv, Tk, dk], v [B·Hkv, Tk, dv], out [B·H, Tq, dv].

import { exp4 } from './expf';
import { madd } from './madd';

export const FT: i32 = 32;

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function allowed(qi: i32, kj: i32, causal: i32, window: i32, chunk: i32, stride: i32, valid: usize): bool {
  if (causal && kj > qi) return false;
  const d = qi > kj ? qi - kj : kj - qi;
  if (window > 0 && d >= window) return false;
  if (chunk > 0 && qi / chunk != kj / chunk) return false;
  if (stride > 0 && d >= stride && d % stride != 0) return false;
  if (valid && load<u8>(valid + <usize>kj) == 0) return false;
  return true;
}

@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** q · k over d (f32 lanes, then the tail). */
@inline function dot(qi: usize, kj: usize, d: i32): f32 {
  const d4 = d & ~3;
  let acc = f32x4.splat(0);
  for (let e = 0; e < d4; e += 4) acc = madd(v128.load(qi + (<usize>e << 2)), v128.load(kj + (<usize>e << 2)), acc);
  let s = hsum(acc);
  for (let e = d4; e < d; e++) s += load<f32>(qi + (<usize>e << 2)) * load<f32>(kj + (<usize>e << 2));
  return s;
}

/** Scores of four consecutive keys (rows of k from kj, each d long) against q, times scale, into dst[0..3]. */
@inline function dot4(dst: usize, qi: usize, kj: usize, d: i32, scale: f32): void {
  const d4 = d & ~3;
  const row = <usize>d << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let e = 0; e < d4; e += 4) {
    const o = <usize>e << 2;
    const qv = v128.load(qi + o);
    a0 = madd(qv, v128.load(kj + o), a0);
    a1 = madd(qv, v128.load(kj + row + o), a1);
    a2 = madd(qv, v128.load(kj + 2 * row + o), a2);
    a3 = madd(qv, v128.load(kj + 3 * row + o), a3);
  }
  let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  for (let e = d4; e < d; e++) {
    const o = <usize>e << 2;
    const qd = load<f32>(qi + o);
    s0 += qd * load<f32>(kj + o);
    s1 += qd * load<f32>(kj + row + o);
    s2 += qd * load<f32>(kj + 2 * row + o);
    s3 += qd * load<f32>(kj + 3 * row + o);
  }
  store<f32>(dst, s0 * scale);
  store<f32>(dst, s1 * scale, 4);
  store<f32>(dst, s2 * scale, 8);
  store<f32>(dst, s3 * scale, 12);
}

export function flash_heads(
  out: usize, q: usize, k: usize, v: usize, valid: usize,
  H: i32, Hkv: i32, Tq: i32, Tk: i32, dk: i32, dv: i32, scale: f32, fill: f32,
  causal: i32, window: i32, chunk: i32, stride: i32, scratch: usize, h0: i32, h1: i32, slot: i32,
): void {
  const group = H / Hkv;
  const offset = Tk - Tq;
  const dv4 = dv & ~3;
  const s = scratch + <usize>slot * (<usize>(FT + dv) << 2);
  const acc = s + (<usize>FT << 2);
  for (let bh = h0; bh < h1; bh++) {
    const b = bh / H;
    const kv = b * Hkv + (bh % H) / group;
    const kh = k + (<usize>kv * <usize>Tk * <usize>dk << 2);
    const vh = v + (<usize>kv * <usize>Tk * <usize>dv << 2);
    const vb = valid ? valid + <usize>b * <usize>Tk : 0;
    for (let i = 0; i < Tq; i++) {
      const qi = q + ((<usize>bh * <usize>Tq + i) * <usize>dk << 2);
      const pos = i + offset;
      let m: f32 = -Infinity;
      let l: f64 = 0;
      for (let e = 0; e < dv; e++) store<f32>(acc + (<usize>e << 2), 0);
      // Keys the causal rule or the window exclude contribute e^(fill − m) = 0 exactly, so they are not
      // visited, unless padding could mask the query's own key (then a fully masked row must average all).
      let jLo = 0;
      let jHi = Tk;
      if (!vb) {
        if (causal) jHi = min(jHi, pos + 1);
        if (window > 0) {
          jLo = max(0, pos - window + 1);
          jHi = min(jHi, pos + window);
        }
      }
      for (let j0 = jLo; j0 < jHi; j0 += FT) {
        const bc = min(FT, jHi - j0);
        let tileMax: f32 = -Infinity;
        let j = 0;
        // Four keys at a time (four independent accumulator chains), then one at a time.
        for (; j + 4 <= bc; j += 4) {
          const kj = j0 + j;
          dot4(s + (<usize>j << 2), qi, kh + (<usize>kj * <usize>dk << 2), dk, scale);
          for (let l = 0; l < 4; l++) {
            const at = s + (<usize>(j + l) << 2);
            if (!allowed(pos, kj + l, causal, window, chunk, stride, vb)) store<f32>(at, fill);
            tileMax = max(tileMax, load<f32>(at));
          }
        }
        for (; j < bc; j++) {
          const kj = j0 + j;
          const sc = allowed(pos, kj, causal, window, chunk, stride, vb) ? dot(qi, kh + (<usize>kj * <usize>dk << 2), dk) * scale : fill;
          store<f32>(s + (<usize>j << 2), sc);
          tileMax = max(tileMax, sc);
        }
        if (tileMax > m) {
          // A new maximum: rescale what was summed so far by e^(m_old − m_new) (0 on the first tile).
          const c = exp1(m - tileMax);
          l *= <f64>c;
          const cv = f32x4.splat(c);
          for (let e = 0; e < dv4; e += 4) v128.store(acc + (<usize>e << 2), f32x4.mul(v128.load(acc + (<usize>e << 2)), cv));
          for (let e = dv4; e < dv; e++) store<f32>(acc + (<usize>e << 2), load<f32>(acc + (<usize>e << 2)) * c);
          m = tileMax;
        }
        const mv = f32x4.splat(m);
        j = 0;
        for (; j + 4 <= bc; j += 4) v128.store(s + (<usize>j << 2), exp4(f32x4.sub(v128.load(s + (<usize>j << 2)), mv)));
        for (; j < bc; j++) store<f32>(s + (<usize>j << 2), exp1(load<f32>(s + (<usize>j << 2)) - m));
        for (j = 0; j < bc; j++) {
          const p = load<f32>(s + (<usize>j << 2));
          if (p == 0) continue;
          l += <f64>p;
          const pv = f32x4.splat(p);
          const vj = vh + (<usize>(j0 + j) * <usize>dv << 2);
          for (let e = 0; e < dv4; e += 4) v128.store(acc + (<usize>e << 2), madd(pv, v128.load(vj + (<usize>e << 2)), v128.load(acc + (<usize>e << 2))));
          for (let e = dv4; e < dv; e++) store<f32>(acc + (<usize>e << 2), load<f32>(acc + (<usize>e << 2)) + p * load<f32>(vj + (<usize>e << 2)));
        }
      }
      const oi = out + ((<usize>bh * <usize>Tq + i) * <usize>dv << 2);
      for (let e = 0; e < dv; e++) store<f32>(oi + (<usize>e << 2), <f32>(<f64>load<f32>(acc + (<usize>e << 2)) / l));
    }
  }
}
