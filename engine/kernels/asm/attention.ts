// AssemblyScript. Scaled dot-product attention for heads h0 ≤ bh < h1 (bh = b·H + h: a thread's share):
//   scores[bh] = q[bh] · k[kv]ᵀ · scale, masked (mask[b, i, j] = 0 → fill), probs = softmax(scores),
//   out[bh] = probs · v[kv], with kv = b·H_kv + h / (H / H_kv) (grouped-query attention's mapping).
// Layouts: q [B·H, Tq, dk], k [B·H_kv, Tk, dk], v [B·H_kv, Tk, dv], scores/probs [B·H, Tq, Tk],
// out [B·H, Tq, dv], mask [B, Tq, Tk] bytes (0 = no mask). Dot products run along dk, P·V along dv.

import { madd } from './madd';
import { softmaxRow } from './softmax';

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

export function attention_heads(
  out: usize, scores: usize, probs: usize, q: usize, k: usize, v: usize, mask: usize,
  H: i32, Hkv: i32, Tq: i32, Tk: i32, dk: i32, dv: i32, scale: f32, fill: f32, h0: i32, h1: i32,
): void {
  const group = H / Hkv;
  const dk4 = dk & ~3;
  const dv4 = dv & ~3;
  for (let bh = h0; bh < h1; bh++) {
    const b = bh / H;
    const kv = b * Hkv + (bh % H) / group;
    const qh = q + (<usize>bh * <usize>Tq * <usize>dk << 2);
    const kh = k + (<usize>kv * <usize>Tk * <usize>dk << 2);
    const vh = v + (<usize>kv * <usize>Tk * <usize>dv << 2);
    const sh = scores + (<usize>bh * <usize>Tq * <usize>Tk << 2);
    const ph = probs + (<usize>bh * <usize>Tq * <usize>Tk << 2);
    const oh = out + (<usize>bh * <usize>Tq * <usize>dv << 2);
    const mb = mask ? mask + <usize>b * <usize>Tq * <usize>Tk : 0;
    for (let i = 0; i < Tq; i++) {
      const qi = qh + (<usize>i * <usize>dk << 2);
      const si = sh + (<usize>i * <usize>Tk << 2);
      const pi = ph + (<usize>i * <usize>Tk << 2);
      let mx: f32 = -Infinity;
      let j = 0;
      // Four keys at a time: four independent accumulator chains (one chain per key was bound by the add
      // latency); each key's dot product runs in the same order as below, so the same bits.
      for (; j + 4 <= Tk; j += 4) {
        const mj = mb ? mb + <usize>i * <usize>Tk + j : 0;
        if (mj && load<u8>(mj) == 0 && load<u8>(mj, 1) == 0 && load<u8>(mj, 2) == 0 && load<u8>(mj, 3) == 0) {
          for (let l = 0; l < 4; l++) store<f32>(si + (<usize>(j + l) << 2), fill);
          mx = max(mx, fill);
          continue;
        }
        const k0 = kh + (<usize>j * <usize>dk << 2);
        const k1 = k0 + (<usize>dk << 2);
        const k2 = k1 + (<usize>dk << 2);
        const k3 = k2 + (<usize>dk << 2);
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let d = 0; d < dk4; d += 4) {
          const o = <usize>d << 2;
          const qd = v128.load(qi + o);
          a0 = madd(qd, v128.load(k0 + o), a0);
          a1 = madd(qd, v128.load(k1 + o), a1);
          a2 = madd(qd, v128.load(k2 + o), a2);
          a3 = madd(qd, v128.load(k3 + o), a3);
        }
        let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
        for (let d = dk4; d < dk; d++) {
          const o = <usize>d << 2;
          const qd = load<f32>(qi + o);
          s0 += qd * load<f32>(k0 + o);
          s1 += qd * load<f32>(k1 + o);
          s2 += qd * load<f32>(k2 + o);
          s3 += qd * load<f32>(k3 + o);
        }
        s0 = mj && load<u8>(mj) == 0 ? fill : s0 * scale;
        s1 = mj && load<u8>(mj, 1) == 0 ? fill : s1 * scale;
        s2 = mj && load<u8>(mj, 2) == 0 ? fill : s2 * scale;
        s3 = mj && load<u8>(mj, 3) == 0 ? fill : s3 * scale;
        store<f32>(si + (<usize>j << 2), s0);
        store<f32>(si + (<usize>j << 2), s1, 4);
        store<f32>(si + (<usize>j << 2), s2, 8);
        store<f32>(si + (<usize>j << 2), s3, 12);
        mx = max(max(mx, s0), max(s1, max(s2, s3)));
      }
      for (; j < Tk; j++) {
        let s: f32;
        if (mb && load<u8>(mb + <usize>i * <usize>Tk + j) == 0) s = fill;
        else {
          const kj = kh + (<usize>j * <usize>dk << 2);
          let acc = f32x4.splat(0);
          for (let d = 0; d < dk4; d += 4) acc = madd(v128.load(qi + (<usize>d << 2)), v128.load(kj + (<usize>d << 2)), acc);
          s = hsum(acc);
          for (let d = dk4; d < dk; d++) s += load<f32>(qi + (<usize>d << 2)) * load<f32>(kj + (<usize>d << 2));
          s *= scale;
        }
        store<f32>(si + (<usize>j << 2), s);
        mx = max(mx, s);
      }
      softmaxRow(pi, si, Tk, mx);
      // out[i, :] = Σ_j p[i, j] · v[j, :]
      const oi = oh + (<usize>i * <usize>dv << 2);
      for (let d = 0; d < dv; d++) store<f32>(oi + (<usize>d << 2), 0);
      let jv = 0;
      // Four keys at a time when none has p = 0: out[i, d] takes the four multiply-adds in key order in a
      // register (the same bits as one key at a time) and is loaded and stored once, not four times.
      for (; jv + 4 <= Tk; jv += 4) {
        const pj = pi + (<usize>jv << 2);
        const q0 = load<f32>(pj), q1 = load<f32>(pj, 4), q2 = load<f32>(pj, 8), q3 = load<f32>(pj, 12);
        if (q0 == 0 || q1 == 0 || q2 == 0 || q3 == 0) {
          for (let j = jv; j < jv + 4; j++) {
            const p = load<f32>(pi + (<usize>j << 2));
            if (p == 0) continue;
            const pv = f32x4.splat(p);
            const vj = vh + (<usize>j * <usize>dv << 2);
            for (let d = 0; d < dv4; d += 4) v128.store(oi + (<usize>d << 2), madd(pv, v128.load(vj + (<usize>d << 2)), v128.load(oi + (<usize>d << 2))));
            for (let d = dv4; d < dv; d++) store<f32>(oi + (<usize>d << 2), load<f32>(oi + (<usize>d << 2)) + p * load<f32>(vj + (<usize>d << 2)));
          }
          continue;
        }
        const p0 = f32x4.splat(q0), p1 = f32x4.splat(q1), p2 = f32x4.splat(q2), p3 = f32x4.splat(q3);
        const v0 = vh + (<usize>jv * <usize>dv << 2);
        const v1 = v0 + (<usize>dv << 2);
        const v2 = v1 + (<usize>dv << 2);
        const v3 = v2 + (<usize>dv << 2);
        for (let d = 0; d < dv4; d += 4) {
          const o = <usize>d << 2;
          let acc = v128.load(oi + o);
          acc = madd(p0, v128.load(v0 + o), acc);
          acc = madd(p1, v128.load(v1 + o), acc);
          acc = madd(p2, v128.load(v2 + o), acc);
          acc = madd(p3, v128.load(v3 + o), acc);
          v128.store(oi + o, acc);
        }
        for (let d = dv4; d < dv; d++) {
          const o = <usize>d << 2;
          let acc = load<f32>(oi + o);
          acc += q0 * load<f32>(v0 + o);
          acc += q1 * load<f32>(v1 + o);
          acc += q2 * load<f32>(v2 + o);
          acc += q3 * load<f32>(v3 + o);
          store<f32>(oi + o, acc);
        }
      }
      for (let j = jv; j < Tk; j++) {
        const p = load<f32>(pi + (<usize>j << 2));
        if (p == 0) continue;
        const pv = f32x4.splat(p);
        const vj = vh + (<usize>j * <usize>dv << 2);
        for (let d = 0; d < dv4; d += 4) v128.store(oi + (<usize>d << 2), madd(pv, v128.load(vj + (<usize>d << 2)), v128.load(oi + (<usize>d << 2))));
        for (let d = dv4; d < dv; d++) store<f32>(oi + (<usize>d << 2), load<f32>(oi + (<usize>d << 2)) + p * load<f32>(vj + (<usize>d << 2)));
      }
    }
  }
}
