// `npm run package`: a production build (minified, no source maps), then `vsce package` into
// dist-vsix/NAME-VERSION.vsix. What goes in is decided by .vscodeignore: the bundles in dist/,
// package.json, README, LICENSE, media/ and schemas/ (esbuild bundles every runtime dependency,
// so no node_modules). Prints the file's path, size and contents.
//   node scripts/package.mjs [--out DIR] [--skip-build]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const outDir = resolve(ROOT, argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : 'dist-vsix');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const vsix = join(outDir, `${pkg.name}-${pkg.version}.vsix`);

function run(cmd, args) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  if (r.status !== 0) {
    console.error(`package: '${cmd} ${args[0]}' failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

if (!argv.includes('--skip-build')) {
  run(process.execPath, ['scripts/build.mjs', '--production']);
}
mkdirSync(outDir, { recursive: true });
rmSync(vsix, { force: true });
const vsce = join(ROOT, 'node_modules/@vscode/vsce/vsce');
run(process.execPath, [
  vsce,
  'package',
  '--out',
  vsix,
  '--no-dependencies', // everything is bundled by esbuild
  '--allow-missing-repository',
  '--no-rewrite-relative-links', // README images are relative to the repository
]);
run(process.execPath, [vsce, 'ls', '--no-dependencies']);
const bytes = statSync(vsix).size;
console.log(`packaged ${relative(ROOT, vsix)}: ${(bytes / 1024).toFixed(1)} KiB (${bytes} bytes)`);
