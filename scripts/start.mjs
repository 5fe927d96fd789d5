// `npm start`: build the extension and open the bundled examples/ folder in VS Code with the
// extension loaded and the inspector open on the tutorial encoder.
//   - a desktop VS Code (`code` on PATH): opened with the extension as a development extension;
//   - otherwise code-server (installed on first use by scripts/setup-vscode.sh, ~3 min, with its
//     progress printed): the extension is packaged and
//     installed into a dedicated extensions dir, code-server serves the workbench, the address to
//     open is printed, and it runs until Ctrl-C.
// The inspector opens on activation through TRANSFORMER_INSPECTOR_OPEN (see src/ids.ts).
//   node scripts/start.mjs [--port N] [--host H] [--dev] [--code-server] [--verify]
//     --dev          load the extension from the working tree (the test harness's way: development
//                    extension through the URL; VS Code's notification toasts are hidden in that mode)
//     --code-server  use code-server even when a desktop `code` exists
//     --verify       open the address in headless Chromium, check the inspector shows the tutorial,
//                    save test-results/screenshots/start.png and exit
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  installVsix,
  launchChromium,
  onShutdown,
  requireInstall,
  ROOT,
  startCodeServer,
  workbenchUrl,
} from '../test/vscode/lib/code-server.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const dev = argv.includes('--dev');
const verify = argv.includes('--verify');
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', process.env.PORT ?? 8080));
const WORKSPACE = join(ROOT, 'examples');
const CONFIG = join(WORKSPACE, 'tutorial/tutorial.transformer.json');

function step(msg) {
  console.log(`[start] ${msg}`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`[start] '${[cmd, ...args].join(' ')}' failed`);
    process.exit(1);
  }
}

function desktopCode() {
  if (argv.includes('--code-server') || verify) return undefined;
  const r = spawnSync('code', ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 && /^\d+\.\d+/.test(r.stdout) ? 'code' : undefined;
}

const env = { TRANSFORMER_INSPECTOR_OPEN: CONFIG };
const code = desktopCode();
if (code) {
  step('building the extension');
  run(process.execPath, ['scripts/build.mjs']);
  step(`opening ${WORKSPACE} in desktop VS Code with the extension from ${ROOT}`);
  const child = spawn(code, ['--new-window', `--extensionDevelopmentPath=${ROOT}`, WORKSPACE], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  child.on('exit', (c) => process.exit(c ?? 0));
} else {
  try {
    requireInstall();
  } catch (e) {
    // First use on a machine without a desktop VS Code: install the offline one (code-server with
    // Node 24 in .tools/, Chromium by apt-get), with its progress on the terminal.
    step(`no desktop \`code\` on PATH and ${e.message.replace(/: run .*$/, '')}`);
    step('installing the offline VS Code (scripts/setup-vscode.sh; about 3 minutes the first time)');
    run('bash', ['scripts/setup-vscode.sh']);
    try {
      requireInstall();
    } catch (again) {
      console.error(`[start] the offline VS Code is still incomplete: ${again.message}`);
      process.exit(1);
    }
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ti-start-'));
  const extensionsDir = join(tmp, 'extensions');
  mkdirSync(extensionsDir, { recursive: true });
  let server;
  let browser;
  let stopping = false;
  const cleanup = onShutdown(async () => {
    stopping = true;
    await browser?.close().catch(() => {});
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  });

  if (dev) {
    step('building the extension');
    run(process.execPath, ['scripts/build.mjs']);
  } else {
    step('packaging the extension (npm run package) and installing it into a dedicated extensions dir');
    run(process.execPath, ['scripts/package.mjs', '--out', join(tmp, 'vsix')]);
    const vsix = join(
      tmp,
      'vsix',
      readdirSync(join(tmp, 'vsix')).find((f) => f.endsWith('.vsix')),
    );
    installVsix(vsix, extensionsDir);
  }

  step('starting code-server');
  const start = (p) =>
    startCodeServer({ workspace: WORKSPACE, extensionsDir, smokeTestDriver: dev, env, host, port: p });
  try {
    server = await start(port).catch((e) => {
      if (port === 0) throw e;
      step(`port ${port} is not free (${e.message}): using a free port`);
      return start(0);
    });
  } catch (e) {
    console.error(`[start] code-server did not start: ${e.message}`);
    await cleanup();
    process.exit(1);
  }
  const url = workbenchUrl(server, { folder: WORKSPACE, extensionDevelopmentPath: dev ? ROOT : undefined });
  if (verify) {
    step(`the inspector's address: ${url}`);
    const ok = await verifyInspector(url).catch((e) => {
      console.error(`[start] verify failed: ${e.message}`);
      return false;
    });
    await cleanup();
    process.exit(ok ? 0 : 1);
  }
  console.log('');
  console.log('  Transformer Inspector is running in VS Code (code-server). Open this address in a browser:');
  console.log('');
  console.log(`    ${url}`);
  console.log('');
  console.log(
    `  The inspector opens on ${CONFIG.slice(ROOT.length + 1)} (or run "Transformer Inspector: Open Inspector").`,
  );
  console.log('  Press Ctrl-C to stop.');
  server.child.on('exit', (c, s) => {
    if (stopping) return;
    console.error(`[start] code-server exited by itself (${c ?? s})`);
    cleanup().finally(() => process.exit(1));
  });
  process.on('exit', () => stopping && console.log('[start] stopped code-server'));
  await new Promise(() => {}); // until a signal: onShutdown stops code-server and removes the temp dirs

  async function verifyInspector(address) {
    const { webviewFrame, poll } = await import('../test/e2e/workbench.mjs');
    browser = await launchChromium(server.sandbox);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(address, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    const frame = webviewFrame(page);
    const text = await poll(
      async () => {
        const t = await frame.locator('body').innerText({ timeout: 1_000 });
        return /tutorial/i.test(t) ? t : undefined;
      },
      { timeout: 60_000, what: 'the inspector to show the tutorial model' },
    );
    mkdirSync(join(ROOT, 'test-results/screenshots'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results/screenshots/start.png') });
    step(
      `verified: the inspector opened by itself and shows "${text
        .split('\n')
        .find((l) => /tutorial/i.test(l))
        ?.trim()}"`,
    );
    return true;
  }
}
