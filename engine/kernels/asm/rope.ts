// AssemblyScript. Rotary position embedding over rows r0 ≤ r < r1 of x [B·T, H, D] (r = b·T + t):
// out = x, then for each head and pair i < half, dims a = step·i and a + partner rotate by the angle of
// position t: out[a] = x1·cos − sign·x2·sin, out[a + partner] = x2·cos + sign·x1·sin, cos/sin [T, half].
// In f64 rounded once to f32, the operations of engine/nn/rope.ts in its order: the same bits.

export function rope(out: usize, x: usize, cos: usize, sin: usize, T: i32, H: i32, D: i32, half: i32, step: i32, partner: i32, sign: f64, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const t = r % T;
    const row = <usize>r * <usize>H * <usize>D << 2;
    memory.copy(out + row, x + row, <usize>H * <usize>D << 2);
    const ct = cos + (<usize>t * <usize>half << 2);
    const st = sin + (<usize>t * <usize>half << 2);
    for (let h = 0; h < H; h++) {
      const o = row + (<usize>h * <usize>D << 2);
      for (let i = 0; i < half; i++) {
        const c = <f64>load<f32>(ct + (<usize>i << 2));
        const s = <f64>load<f32>(st + (<usize>i << 2));
        const a = o + (<usize>(step * i) << 2);
        const b = a + (<usize>partner << 2);
        const x1 = <f64>load<f32>(x + a);
        const x2 = <f64>load<f32>(x + b);
        store<f32>(out + a, <f32>(x1 * c - sign * x2 * s));
        store<f32>(out + b, <f32>(x2 * c + sign * x1 * s));
      }
    }
  }
}
