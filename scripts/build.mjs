// Bundles the extension host, the engine worker, the CLI and the webview with esbuild.
// `node scripts/build.mjs [--watch] [--production]`
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { buildWasm } from './build-wasm.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// mainFields: prefer ESM builds (jsonc-parser's UMD build hides its requires from the bundler).
const common = { mainFields: ['module', 'main'], bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', target: 'es2022' };

/** Entries that exist (the extension and webview arrive with the extension work). */
const entries = [
  { entryPoints: ['engine/cli.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['engine/worker/main.ts'], outfile: 'dist/worker.js', platform: 'node', format: 'cjs' },
  { entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  { entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife' },
].filter((e) => existsSync(e.entryPoints[0]));

const wasm = await buildWasm();
const contexts = await Promise.all(entries.map((e) => esbuild.context({ ...common, ...e })));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log(`watching ${entries.length} bundles`);
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  console.log(`built ${[...entries.map((e) => e.outfile), ...wasm].join(', ')}`);
}
