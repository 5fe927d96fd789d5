import { findWasmBinaries } from '../kernels/wasm';
import { gpt2Flops, measurePeak } from '../kernels/peak';
import { relaxedSimdValidates } from '../kernels/simd';
import { findOnnxruntime, ortMatmul } from './bench-ort';

/**
 * `bench`'s ceiling section: the WebAssembly SIMD peak of this core (both builds), onnxruntime-node's
 * MatMul GFLOP/s on the same shape and threads when it is installed, and the arithmetic that follows
 * for GPT-2-small at 128 tokens: the lowest engine time the peak allows, hence the best reachable ratio.
 */
export async function runPeakBench(threads: number, quick: boolean, out: (s: string) => void): Promise<void> {
  out('');
  out('ceiling: a register-only f32x4 multiply-add loop (12 accumulators, no memory), one thread; GFLOP/s wall, per CPU-second');
  const peaks: { variant: string; gflops: number }[] = [];
  const variants = relaxedSimdValidates() ? (['plain', 'relaxed'] as const) : (['plain'] as const);
  for (const choice of variants) {
    const bin = findWasmBinaries(choice);
    if (!bin) continue;
    const g = measurePeak(bin, quick ? 60 : 250);
    peaks.push({ variant: bin.variant, gflops: g.cpu });
    out(`  wasm-${bin.variant.padEnd(17)} ${g.wall.toFixed(1).padStart(7)} ${g.cpu.toFixed(1).padStart(7)}  (${bin.variant === 'simd' ? 'f32x4.mul + f32x4.add' : 'f32x4.relaxed_madd: fused'})`);
  }
  if (!relaxedSimdValidates()) out('  (relaxed SIMD does not validate in this process: run through dist/cli.js, which turns it on)');

  const shapes: [number, number, number][] = quick ? [[128, 768, 768]] : [[128, 768, 768], [128, 3072, 768], [128, 768, 3072]];
  const found = findOnnxruntime();
  let ortRate: number | undefined;
  if (!found) out('  onnxruntime-node: not installed (bash ../shared/perf/setup.sh installs it in /tmp/ti-perf; PERF_DIR elsewhere)');
  else {
    for (const [M, N, K] of shapes) {
      let r: Awaited<ReturnType<typeof ortMatmul>>;
      try {
        r = await ortMatmul(found, M, N, K, threads, quick ? 100 : 500);
      } catch (e) {
        out(`  onnxruntime-node ${found.version} from ${found.from} failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
        break;
      }
      // The higher of its wall and CPU rates: waiting for a core lowers the first, helper threads the second.
      if (M === 128 && N === 768 && K === 768) ortRate = Math.max(r.gflops, r.gflopsCpu * threads);
      out(`  onnxruntime-node ${r.version} MatMul ${M}×${K} · ${K}×${N}, ${threads} thread${threads === 1 ? '' : 's'}: ${r.ms.toFixed(3)} ms, ${r.gflops.toFixed(1)} GFLOP/s wall, ${(r.gflopsCpu * threads).toFixed(1)} per CPU-second × ${threads} (max |diff| ${r.maxDiff.toExponential(1)})`);
    }
  }

  const f = gpt2Flops(128);
  const total = f.weights + f.attention;
  out('');
  out(`GPT-2-small at 128 tokens: ${(f.weights / 1e9).toFixed(2)} GFLOP in the weight matmuls (lm_head included) + ${(f.attention / 1e9).toFixed(2)} in attention = ${(total / 1e9).toFixed(2)} GFLOP`);
  out('  (rates per CPU-second × threads: what the cores give when this process has them)');
  for (const p of peaks) {
    const rate = p.gflops * threads;
    out(`  at the ${p.variant} peak × ${threads} thread${threads === 1 ? '' : 's'} (${rate.toFixed(1)} GFLOP/s), the matmuls alone take ≥ ${(total / rate / 1e6).toFixed(0)} ms`);
  }
  if (ortRate !== undefined && peaks.length) {
    const best = peaks[peaks.length - 1];
    out(`  onnxruntime's MatMul rate (${ortRate.toFixed(1)} GFLOP/s) over the best WebAssembly peak (${(best.gflops * threads).toFixed(1)}): ${(ortRate / (best.gflops * threads)).toFixed(2)}× — the lowest engine/onnxruntime ratio on matmul-bound work`);
  }
}
