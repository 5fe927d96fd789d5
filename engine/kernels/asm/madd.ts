// AssemblyScript. a·b + c per lane: one fused (or not) relaxed_madd when the module is built with
// relaxed SIMD, a multiply and an add otherwise. The same source builds both .wasm variants.

@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
