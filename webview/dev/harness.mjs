// Shared by screenshot.mjs and check.mjs: build the dev harness, serve out/webview-dev/ on
// localhost, and launch headless Chromium.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { chromium } from 'playwright-core';

export const root = 'out/webview-dev';
const types = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.map': 'application/json',
};

export async function startHarness() {
  execFileSync('node', ['webview/dev/build.mjs'], { stdio: 'inherit' });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x').pathname;
    if (url === '/favicon.ico') return void res.writeHead(204).end();
    const path = join(root, url.replace(/^\/$/, '/index.html'));
    try {
      const body = readFileSync(path);
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  const base = `http://127.0.0.1:${server.address().port}/index.html`;
  return {
    browser,
    url: (scenario, theme = 'dark') => `${base}?theme=${theme}&scenario=${scenario}`,
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/** Record console errors (CSP violations included) and page errors of a page into `problems`. */
export function watchProblems(page, label, problems) {
  page.on('console', (m) => m.type() === 'error' && problems.push(`${label}: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
}
