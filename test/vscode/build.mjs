// Compiles the mocha suite that runs inside VS Code (test/vscode/suite/*.ts) to out/test/vscode/suite/.
// `vscode` is provided by the extension host and mocha is loaded from node_modules at run time.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'test/vscode/suite');
export const OUT = join(ROOT, 'out/test/vscode/suite');

export async function buildSuite() {
  rmSync(OUT, { recursive: true, force: true });
  const entryPoints = readdirSync(SRC)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(SRC, f));
  await esbuild.build({
    entryPoints,
    outdir: OUT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'es2022',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return entryPoints.length;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const n = await buildSuite();
  console.log(`built ${n} suite files into ${OUT}`);
}
