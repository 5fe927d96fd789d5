import type { WasmBinaries } from './wasm';

/**
 * The WebAssembly SIMD ceiling of one core: asm/peak.ts's register-only loop of f32x4 multiply-adds
 * (fused in the relaxed build, a multiply and an add in the plain one), timed on the calling thread.
 * No matmul kernel in that build can exceed it, whatever its tile.
 */

/** Flops per step of asm/peak.ts's loop (12 accumulators · 4 lanes · multiply and add). */
const FLOPS_PER_STEP = 12 * 4 * 2;

/** CPU milliseconds (user + system) of this process since `from`. */
function cpuMs(from: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1000;
}

/**
 * GFLOP/s of the peak loop of one build, the best of `rounds` timings of about `ms` each: from wall time,
 * and per CPU-second (robust when other processes share the core: time spent waiting for it is not counted).
 */
export function measurePeak(bin: WasmBinaries, ms = 200, rounds = 3): { wall: number; cpu: number } {
  // Its own small memory: the loop touches none, but the module imports one (shared, like the kernels').
  const memory = new WebAssembly.Memory({ initial: 17, maximum: 65536, shared: true });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bin.bytes), {
    env: {
      memory,
      abort() {
        throw new Error('kernel abort');
      },
    },
  });
  const peak = instance.exports.peak_madd as (steps: number, seed: number) => number;
  // Calibrate: steps for about `ms`.
  let steps = 1 << 16;
  for (;;) {
    const t0 = performance.now();
    peak(steps, 1);
    const took = performance.now() - t0;
    if (took > ms / 8 || steps >= 1 << 28) {
      steps = Math.min(2 ** 31 - 1, Math.max(1, Math.round((steps * ms) / Math.max(took, 1e-3))));
      break;
    }
    steps *= 4;
  }
  let wall = 0;
  let cpu = 0;
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    peak(steps, 1.0001);
    const w = performance.now() - t0;
    const flops = steps * FLOPS_PER_STEP;
    wall = Math.max(wall, flops / w / 1e6);
    cpu = Math.max(cpu, flops / Math.max(cpuMs(c0), 1e-3) / 1e6);
  }
  return { wall, cpu };
}

/**
 * FLOPs of a GPT-2-style forward at T tokens: the matmuls with weights (QKV, output, the two FFN
 * layers per block, the lm_head) and attention's QKᵀ and P·V, multiply and add counted apart.
 */
export function gpt2Flops(T: number, d = 768, layers = 12, dFf = 3072, vocab = 50257): { weights: number; attention: number } {
  const perLayer = 2 * T * d * (3 * d + d + 2 * dFf);
  return { weights: layers * perLayer + 2 * T * d * vocab, attention: layers * 4 * T * T * d };
}
