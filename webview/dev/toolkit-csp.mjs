// Does @vscode/webview-ui-toolkit run under the panel's strict Content-Security-Policy? Renders the
// toolkit's button, dropdown, tabs, text field, progress ring and data grid in headless Chromium in
// the HTML src/panel/html.ts builds, (a) as the panel uses it (styles may carry the load's nonce,
// announced in <meta property="csp-nonce">) and (b) without the style nonce. Expects zero CSP
// violations and upgraded, styled components in (a), and the violation FAST's injected <style> causes
// in (b). Needs Chromium (scripts/setup-vscode.sh installs it):
//   node webview/dev/toolkit-csp.mjs
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, before, after } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

let dir;
let server;
let browser;
let base;
let html;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ti-toolkit-csp-'));
  await esbuild.build({ entryPoints: ['webview/dev/toolkit-csp-entry.ts'], outfile: join(dir, 'tk.js'), bundle: true, format: 'iife', platform: 'browser', logLevel: 'warning' });
  await esbuild.build({ entryPoints: ['src/panel/html.ts'], outfile: join(dir, 'html.cjs'), bundle: true, format: 'cjs', platform: 'node', logLevel: 'warning' });
  html = (await import(join(dir, 'html.cjs'))).default;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/tk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return void res.end(readFileSync(join(dir, 'tk.js')));
    }
    const styleNonce = url.searchParams.get('styleNonce') === '1';
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html.panelHtml({ cspSource: base, scriptUri: `${base}/tk.js`, styleUris: [], nonce: html.makeNonce(), styleNonce }));
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
});
after(async () => {
  await browser?.close();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function render(styleNonce) {
  const page = await browser.newPage();
  const violations = [];
  page.on('console', (m) => m.type() === 'error' && violations.push(m.text()));
  page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
  await page.goto(`${base}/?styleNonce=${styleNonce ? 1 : 0}`);
  await page.waitForSelector('body[data-rendered="true"]', { timeout: 15_000 });
  const facts = await page.evaluate(() => {
    const tags = ['vscode-button', 'vscode-dropdown', 'vscode-panels', 'vscode-panel-tab', 'vscode-text-field', 'vscode-progress-ring', 'vscode-data-grid'];
    const upgraded = tags.filter((t) => document.querySelector(t)?.shadowRoot);
    const button = document.querySelector('vscode-button');
    return {
      upgraded,
      buttonDisplay: window.getComputedStyle(button).display,
      gridRows: document.querySelectorAll('vscode-data-grid vscode-data-grid-row').length,
      policy: document.querySelector('meta[http-equiv="Content-Security-Policy"]').getAttribute('content'),
    };
  });
  await page.close();
  return { violations, ...facts };
}

test("the toolkit's components render under the panel's policy with the style nonce, with no CSP violation", async () => {
  const r = await render(true);
  assert.doesNotMatch(r.policy, /unsafe-inline|unsafe-eval/);
  assert.match(r.policy, /style-src \S+ 'nonce-/);
  assert.deepEqual(r.violations, []);
  assert.equal(r.upgraded.length, 7, `upgraded: ${r.upgraded.join(', ')}`);
  assert.equal(r.buttonDisplay, 'inline-flex', "the button's own styles apply");
  assert.equal(r.gridRows, 3, 'header row + 2 data rows');
});

test('without the style nonce, FAST\'s injected <style> is refused (why the panel announces the nonce)', async () => {
  const r = await render(false);
  assert.ok(r.violations.some((v) => /violates the following Content Security Policy directive 'style-src/.test(v)), r.violations.join('\n'));
});
