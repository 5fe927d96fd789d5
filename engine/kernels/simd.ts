import * as v8 from 'node:v8';
import { InspectorError } from '../errors';

/**
 * Which WebAssembly SIMD build runs, and turning relaxed SIMD on in the processes the engine owns.
 *
 * Relaxed SIMD (`f32x4.relaxed_madd`: a fused multiply-add on x64) ships on by default in V8 11.4+
 * (Chrome 114, Electron 25+, Node 22+). Node 20 (V8 11.3) validates it only under
 * `--experimental-wasm-relaxed-simd`. The CLI sets that flag on itself before any module is compiled
 * (`enableRelaxedSimd`), the extension passes it to the engine process it forks (when the runtime needs
 * it); V8 flags are process-wide, so the kernel threads see it too. Detection stays: the loader takes
 * the relaxed build only when `WebAssembly.validate` accepts it.
 *
 * TRANSFORMER_INSPECTOR_SIMD chooses the build: `plain` (always plain SIMD), `relaxed` (relaxed SIMD,
 * turning the flag on here; an error if the runtime still refuses it), unset or `auto` (relaxed when
 * it validates, else plain). Tests run the kernel and golden suites under both explicit values.
 */

export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

export type SimdChoice = 'auto' | 'plain' | 'relaxed';

/** The smallest module that uses relaxed SIMD: (func (result v128) v128.const×3 f32x4.relaxed_madd). */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () → v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]), // v128.const 0 (three times)
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 0x105)
  0x0b, // end
]);

/** Whether this runtime validates relaxed SIMD right now. */
export function relaxedSimdValidates(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

/** The probe module must itself be valid plain SIMD apart from the one relaxed op (a self-check for tests). */
export function relaxedProbeBytes(): Uint8Array {
  return RELAXED_PROBE.slice();
}

/**
 * Turn relaxed SIMD on for this process (and its worker threads) if the runtime does not validate it
 * by default; call before any WebAssembly is compiled. Returns whether it validates afterwards.
 * An unknown flag is ignored by V8 here (unlike on the command line, where it ends the process).
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdValidates()) return true;
  v8.setFlagsFromString(RELAXED_SIMD_FLAG);
  return relaxedSimdValidates();
}

/**
 * The V8 flags an engine process forked by this runtime needs for relaxed SIMD: none when this runtime
 * (the same executable the child runs) already validates it, else the flag.
 */
export function relaxedSimdExecArgv(): string[] {
  return relaxedSimdValidates() ? [] : [RELAXED_SIMD_FLAG];
}

/** TRANSFORMER_INSPECTOR_SIMD, checked. */
export function simdChoice(env: NodeJS.ProcessEnv = process.env): SimdChoice {
  const v = (env.TRANSFORMER_INSPECTOR_SIMD ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'plain' || v === 'relaxed') return v;
  throw new InspectorError(`TRANSFORMER_INSPECTOR_SIMD must be 'plain', 'relaxed' or 'auto', not '${v.slice(0, 40)}'`, { key: 'TRANSFORMER_INSPECTOR_SIMD' });
}
