#!/usr/bin/env node
// A stand-in for the VS Code executable that @vscode/test-electron's runTests() spawns, for a
// machine where no desktop VS Code can be downloaded. It takes the same arguments
//   --extensionDevelopmentPath=P --extensionTestsPath=T --user-data-dir=U --extensions-dir=E [FOLDER]
// (the other flags runTests passes are ignored), starts code-server with the smoke-test driver,
// opens the workbench in Chromium with P and T in the URL's payload, relays the test suite's log to
// stdout and exits with the suite's exit code. code-server's process group and its temporary
// HOME/XDG/TMPDIR are always removed, on success, failure, timeout and signals.
//   env TI_VSCODE_TIMEOUT_MS (default 300000): the whole run's limit.
//   env TI_VSCODE_VERBOSE=1: echo code-server's and the page's own log too.
import { format } from 'node:util';
import { launchChromium, log, onShutdown, startCodeServer, workbenchUrl } from './lib/code-server.mjs';

/** Marks the suite's own log lines (see test/vscode/suite/index.ts). */
const MARK = '[ti-suite] ';
const TIMEOUT_MS = Number(process.env.TI_VSCODE_TIMEOUT_MS || 300_000);
const verbose = process.env.TI_VSCODE_VERBOSE === '1';

const opts = {};
const folders = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
  if (!m) folders.push(a);
  else if (m[2] !== undefined) opts[m[1]] = m[2];
  else if (
    ['user-data-dir', 'extensions-dir', 'extensionDevelopmentPath', 'extensionTestsPath'].includes(m[1])
  )
    opts[m[1]] = argv[++i];
}
if (!opts.extensionTestsPath || !opts.extensionDevelopmentPath) {
  console.error(
    'usage: launch-code-server.mjs --extensionDevelopmentPath=P --extensionTestsPath=T [--user-data-dir=U] [--extensions-dir=E] [FOLDER]',
  );
  process.exit(2);
}
// runTests passes the tests path as given; VS Code resolves a directory to its index.js.
let testsPath = opts.extensionTestsPath;
if (!/\.[cm]?js$/.test(testsPath)) testsPath = testsPath.replace(/\/?$/, '/index.js');

let server;
let browser;
const cleanup = onShutdown(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const pageLog = [];
let exitCode = 1;
try {
  const t0 = Date.now();
  server = await startCodeServer({
    workspace: folders[0],
    userDataDir: opts['user-data-dir'],
    extensionsDir: opts['extensions-dir'],
    smokeTestDriver: true,
    echo: verbose,
  });
  log(`code-server listening on ${server.url} (${Date.now() - t0} ms)`);
  browser = await launchChromium(server.sandbox);
  log(`Chromium started (${Date.now() - t0} ms)`);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (msg) => {
    const line = `[page ${msg.type()}] ${msg.text()}`;
    if (verbose) console.error(line);
    if (line.includes(MARK)) return; // the suite's own lines, already on stdout
    pageLog.push(line);
    if (pageLog.length > 200) pageLog.shift();
  });
  page.on('pageerror', (err) => pageLog.push(`[page error] ${err.message}`));

  let finish;
  const finished = new Promise((r) => (finish = r));
  await page.exposeFunction('codeAutomationLog', (type, args) => relay(type, args));
  await page.exposeFunction('codeAutomationExit', (code) => {
    finish(typeof code === 'number' ? code : 1);
  });
  const url = workbenchUrl(server, {
    folder: folders[0],
    extensionDevelopmentPath: opts.extensionDevelopmentPath,
    extensionTestsPath: testsPath,
  });
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  log(`workbench opened; waiting for the test run (limit ${TIMEOUT_MS / 1000} s)`);
  const timedOut = new Promise((r) => setTimeout(() => r('timeout'), TIMEOUT_MS).unref());
  const result = await Promise.race([finished, timedOut]);
  if (result === 'timeout') {
    console.log(`VS Code test run did not finish within ${TIMEOUT_MS / 1000} s`);
    exitCode = 1;
  } else {
    exitCode = result;
  }
  if (exitCode !== 0) dumpPageLog();
  log(`test run exited with ${exitCode} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} catch (e) {
  console.log(`Failed to run the tests in VS Code: ${e?.stack ?? e}`);
  dumpPageLog();
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(process.exitCode || exitCode);

/**
 * The workbench logs through codeAutomationLog(type, [format, ...args]); the extension host's
 * console arrives there among the workbench's own messages. test/vscode/suite/index.ts marks the
 * suite's lines with MARK: those go to stdout as plain text, the rest only in verbose mode (errors
 * always to stderr).
 */
function relay(type, args) {
  // eslint-disable-next-line no-control-regex
  const text = format(...(Array.isArray(args) ? args : [args])).replace(/\x1b\[[0-9;]*m/g, '');
  if (text.startsWith(MARK)) process.stdout.write(`${text.slice(MARK.length)}\n`);
  else if (verbose) console.error(`[vscode ${type}] ${text}`);
  else if (type === 'error') pageLog.push(`[vscode error] ${text.split('\n')[0]}`);
}

function dumpPageLog() {
  if (!pageLog.length || verbose) return;
  console.error('--- last page log lines ---');
  for (const l of pageLog.slice(-40)) console.error(l);
}
