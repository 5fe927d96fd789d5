// Compiles the AssemblyScript kernels (engine/kernels/asm/) to WebAssembly SIMD, twice: plain SIMD
// (dist/kernels-simd.wasm) and relaxed SIMD (dist/kernels-relaxed.wasm). The engine picks the relaxed
// build when WebAssembly.validate accepts it. `node scripts/build-wasm.mjs` or via scripts/build.mjs.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const common = [
  join(root, 'engine/kernels/asm/index.ts'),
  '-O3',
  '--runtime', 'stub',
  '--noAssert',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory', '17',
  '--maximumMemory', '65536',
  '--enable', 'simd',
  '--enable', 'threads',
];

export async function buildWasm() {
  mkdirSync(join(root, 'dist'), { recursive: true });
  const variants = [
    { out: 'dist/kernels-simd.wasm', extra: [] },
    { out: 'dist/kernels-relaxed.wasm', extra: ['--enable', 'relaxed-simd'] },
  ];
  for (const v of variants) {
    const { error, stderr } = await asc.main([...common, ...v.extra, '-o', join(root, v.out)]);
    if (error) throw new Error(`AssemblyScript build of ${v.out} failed: ${error.message}\n${stderr.toString()}`);
  }
  return variants.map((v) => v.out);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`built ${(await buildWasm()).join(', ')}`);
}
