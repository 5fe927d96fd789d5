/**
 * Deterministic pseudo-random numbers for seeded weights: the same seed and tensor name give the same
 * numbers on every machine (integer arithmetic only; no Math.random, no transcendental functions).
 */
export function hashString(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: a small, well-distributed 32-bit generator. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fill with uniform values in [−bound, bound). */
export function fillUniform(out: Float32Array, bound: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  for (let i = 0; i < out.length; i++) out[i] = (2 * next() - 1) * bound;
  return out;
}
