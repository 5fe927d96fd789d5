import { matmulKernel, matmulKernelNames, setKernelThreads, useMatmul } from '../kernels';
import { parsePositiveInt } from './args';
import { nativeSpecFromJson } from '../config/native';
import { buildNativeModel } from '../model/native';
import { runTrace } from '../trace/step';
import { fillUniform } from '../model/rng';
import { Tensor } from '../tensor';
import { flashAttention, scaledDotProductAttention } from '../nn/attention';
import { materialize } from '../nn/mask';
import { runModelBench } from './bench-model';
import { runPeakBench } from './bench-peak';

/**
 * `bench`: matmul GFLOP/s on transformer-sized shapes and the time of one forward pass of a
 * GPT-2-small-sized encoder (12 layers, d_model 768, 12 heads, d_ff 3072, 128 tokens), seeded weights.
 * A baseline to compare kernels by, not a gate.
 */
export async function runBench(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  if (argv.some((a) => a === '--model' || a.startsWith('--model='))) return runModelBench(argv, out);
  const quick = argv.includes('--quick');
  const kernelArg = argv.find((a) => a.startsWith('--kernel='));
  const threadsAt = argv.indexOf('--threads');
  const threads = setKernelThreads(threadsAt >= 0 ? parsePositiveInt(argv[threadsAt + 1], '--threads', 1) : 1);
  const names = kernelArg ? [kernelArg.slice('--kernel='.length)] : matmulKernelNames();
  out(`matmul kernels: ${names.join(', ')}; ${threads} thread${threads === 1 ? '' : 's'} (--threads N); weights packed once (x·Wᵀ as nn.Linear runs it)`);
  out('GFLOP/s from wall time, and per CPU-second (all threads\' CPU time: robust when the machine is shared)');
  out('');
  out('kernel            shape (x·Wᵀ: M×K · (N×K)ᵀ)     what                          ms/op   GFLOP/s   per CPU-s');
  const shapes: [number, number, number, string][] = [
    [128, 768, 768, 'attention projection'],
    [128, 3072, 768, 'FFN up (d_ff = 4·d_model)'],
    [128, 768, 3072, 'FFN down'],
    [128, 128, 64, 'QKᵀ per head (T×d_head)'],
    [1, 768, 768, 'one token (decode step)'],
    [128, 50257, 768, 'lm_head (GPT-2 vocab)'],
  ];
  for (const name of names) {
    useMatmul(name);
    const mm = matmulKernel();
    for (const [M, N, K, what] of quick ? shapes.slice(0, 2) : shapes) {
      if (!name.startsWith('wasm') && M * N * K > 1e9) continue; // seconds per op in TypeScript
      const a = fillUniform(new Float32Array(M * K), 1, 1);
      const b = fillUniform(new Float32Array(N * K), 1, 2);
      const o = new Float32Array(M * N);
      const flops = 2 * M * N * K;
      mm.linear(o, a, b, M, N, K); // packs the weight panels (kernels that keep them)
      let reps = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      do {
        mm.linear(o, a, b, M, N, K);
        reps++;
      } while (performance.now() - t0 < (quick ? 100 : 500));
      const ms = (performance.now() - t0) / reps;
      const c = process.cpuUsage(c0);
      const cpuMs = (c.user + c.system) / 1000 / reps;
      out(`${name.padEnd(17)} ${`${M}×${K} · (${N}×${K})ᵀ`.padEnd(30)} ${what.padEnd(28)} ${ms.toFixed(3).padStart(8)} ${(flops / ms / 1e6).toFixed(2).padStart(9)} ${(flops / cpuMs / 1e6).toFixed(2).padStart(11)}`);
    }
  }
  await runPeakBench(threads, quick, out);
  useMatmul(names.includes('ts-blocked-4x4') && names.length === 1 ? 'ts-blocked-4x4' : (names.find((n) => n.startsWith('wasm')) ?? names[names.length - 1]));
  out('');
  out('attention, one head, d_head 64, causal: plain (materialises T×T scores and probabilities) vs flash (tiled)');
  out('      T   plain ms   plain extra memory   flash ms   flash extra memory');
  for (const T of quick ? [256, 1024] : [256, 1024, 4096]) {
    const mk = (seed: number) => {
      const t = new Tensor([1, 1, T, 64]);
      fillUniform(t.data, 1, seed);
      return t;
    };
    const [q, k, v] = [mk(1), mk(2), mk(3)];
    let t0 = performance.now();
    const mask = materialize([{ kind: 'causal' }], 1, T, T);
    const plain = scaledDotProductAttention(q, k, v, mask);
    const plainMs = performance.now() - t0;
    const plainBytes = plain.scores.data.byteLength + plain.probs.data.byteLength + (mask?.data.byteLength ?? 0);
    t0 = performance.now();
    const flash = flashAttention(q, k, v, [{ kind: 'causal' }]);
    const flashMs = performance.now() - t0;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
    out(`${String(T).padStart(7)} ${plainMs.toFixed(0).padStart(10)} ${mib(plainBytes).padStart(20)} ${flashMs.toFixed(0).padStart(10)} ${mib(flash.scratchBytes).padStart(20)}`);
  }
  const cfg = quick
    ? { vocab_size: 1000, d_model: 256, num_heads: 4, d_ff: 1024, num_layers: 2, max_len: 128, dropout: 0 }
    : { vocab_size: 50257, d_model: 768, num_heads: 12, d_ff: 3072, num_layers: 12, max_len: 1024, dropout: 0 };
  const T = quick ? 32 : 128;
  out('');
  out(`forward pass: encoder, ${cfg.num_layers} layers, d_model ${cfg.d_model}, ${cfg.num_heads} heads, d_ff ${cfg.d_ff}, vocab ${cfg.vocab_size}, ${T} tokens`);
  let t0 = performance.now();
  const model = buildNativeModel(nativeSpecFromJson(cfg));
  out(`  build (seeded weights, ${model.parameterCount().toLocaleString('en-US')} params): ${(performance.now() - t0).toFixed(0)} ms`);
  const ids = [Array.from({ length: T }, (_, i) => (i * 7919) % cfg.vocab_size)];
  t0 = performance.now();
  const { steps } = runTrace(model.forward({ ids }));
  const ms = performance.now() - t0;
  out(`  forward (${steps.length} traced steps): ${ms.toFixed(0)} ms`);
  return 0;
}
