// Runs the mocha suite (test/vscode/suite) inside a real VS Code through @vscode/test-electron's
// runTests(). Which VS Code:
//   - env VSCODE_EXECUTABLE=/path/to/code: that desktop VS Code;
//   - else, when VS Code's download server resolves and a display exists (or not Linux): a desktop
//     VS Code downloaded by runTests;
//   - else (this offline machine): code-server + Chromium, through test/vscode/launch-code-server.mjs.
//   env TI_VSCODE_MODE=code-server|desktop forces one.
// Ends with mocha's "N passing" / "N failing" lines; exits non-zero when VS Code could not start or
// ran no test, so a broken harness never reads as "0 passed".
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildSuite, OUT } from './build.mjs';
import { ROOT } from './lib/code-server.mjs';

const LAUNCHER = join(ROOT, 'test/vscode/launch-code-server.mjs');
const WORKSPACE = join(ROOT, 'examples');

async function online() {
  try {
    await Promise.race([
      lookup('update.code.visualstudio.com'),
      new Promise((_, rej) => setTimeout(() => rej(new Error('dns timeout')), 2000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

async function pickVSCode() {
  const mode = process.env.TI_VSCODE_MODE;
  if (process.env.VSCODE_EXECUTABLE && mode !== 'code-server')
    return { kind: 'desktop', path: process.env.VSCODE_EXECUTABLE };
  if (mode === 'desktop') return { kind: 'download' };
  if (mode !== 'code-server' && (process.platform !== 'linux' || process.env.DISPLAY) && (await online()))
    return { kind: 'download' };
  chmodSync(LAUNCHER, 0o755);
  return { kind: 'code-server', path: LAUNCHER };
}

/**
 * The extension under test. Until src/extension.ts exists (it is being written in parallel), a
 * throwaway extension in a temp dir stands in, so the harness itself can be proven: it contributes
 * and registers one probe command. Nothing is written into src/.
 */
function extensionUnderTest(tmp) {
  if (existsSync(join(ROOT, 'src/extension.ts'))) {
    const r = spawnSync(process.execPath, ['scripts/build.mjs'], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) throw new Error('scripts/build.mjs failed');
    return ROOT;
  }
  console.log(
    'NOTE: src/extension.ts does not exist yet: testing a throwaway stand-in extension built in a temp dir',
  );
  const dir = join(tmp, 'stand-in-extension');
  mkdirSync(join(dir, 'dist'), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  pkg.main = './dist/extension.js';
  pkg.activationEvents = ['onStartupFinished'];
  pkg.contributes = {
    commands: [
      { command: 'transformerInspector.harnessProbe', title: 'Transformer Inspector: Harness Probe' },
    ],
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(
    join(dir, 'dist/extension.js'),
    "const vscode = require('vscode');\nexports.activate = (ctx) => { ctx.subscriptions.push(vscode.commands.registerCommand('transformerInspector.harnessProbe', () => 'ok')); };\nexports.deactivate = () => {};\n",
  );
  return dir;
}

const started = Date.now();
let exitCode = 1;
const tmp = mkdtempSync(join(tmpdir(), 'ti-vscode-run-'));
let out = '';
try {
  mkdirSync(WORKSPACE, { recursive: true });
  const n = await buildSuite();
  console.log(`built ${n} suite files into ${OUT}`);
  const extensionDevelopmentPath = extensionUnderTest(tmp);
  const vscodeChoice = await pickVSCode();
  console.log(`VS Code: ${vscodeChoice.kind}${vscodeChoice.path ? ` (${vscodeChoice.path})` : ''}`);
  if (vscodeChoice.kind === 'code-server') {
    // fail fast with the fix when the setup script has not run
    const { requireInstall } = await import('./lib/code-server.mjs');
    requireInstall();
  }
  const tee = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      process.stdout.write(chunk, cb);
    },
  });
  await runTests({
    vscodeExecutablePath: vscodeChoice.path,
    extensionDevelopmentPath,
    extensionTestsPath: join(OUT, 'index.js'),
    launchArgs: [
      WORKSPACE,
      `--user-data-dir=${join(tmp, 'user-data')}`,
      `--extensions-dir=${join(tmp, 'extensions')}`,
      '--disable-extensions',
    ],
    stdout: tee,
    stderr: process.stderr,
  });
  const passing = Number(/^\s*(\d+) passing/m.exec(out)?.[1] ?? 0);
  if (passing === 0) {
    console.log('VS Code exited 0 but no test passed (no mocha summary seen): counted as a failure');
    exitCode = 1;
  } else {
    exitCode = 0;
  }
} catch (e) {
  console.log(`VS Code tests failed: ${e?.message ?? e}`);
  if (!/^\s*\d+ failing/m.test(out)) console.log('1 failing');
  exitCode = 1;
} finally {
  // the launcher removes code-server's own temp dirs; a downloaded VS Code stays in .vscode-test/
  rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
}
console.log(`VS Code suite finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(exitCode);
