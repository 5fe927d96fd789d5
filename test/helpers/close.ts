import assert from 'node:assert/strict';

/**
 * The engine's exactness check: every element within rtol of the reference, where "relative" is
 * measured against the reference tensor's largest magnitude (so elements near zero are judged on
 * the tensor's scale, as torch.allclose with atol = rtol · max|ref| does).
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  what = 'tensor',
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const atol = rtol * Math.max(scale, 1e-30);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) !== Number.isNaN(e)) assert.fail(`${what}[${i}]: ${a} vs ${e}`);
    const err = Math.abs(a - e) - rtol * Math.abs(e);
    if (err > worst) {
      worst = err;
      worstAt = i;
    }
  }
  if (worst > atol) {
    assert.fail(
      `${what}: element ${worstAt} is ${actual[worstAt]} but the reference is ${expected[worstAt]} ` +
        `(|diff| ${Math.abs(actual[worstAt] - expected[worstAt]).toExponential(3)}, allowed ${rtol} relative, scale ${scale.toExponential(3)})`,
    );
  }
}

/** Largest |a − b| / max|b|: for tests that must show a wrong variant is far off. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  }
  return diff / Math.max(scale, 1e-30);
}
