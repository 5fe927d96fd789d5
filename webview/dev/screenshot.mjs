// Screenshots of the webview dev harness in headless Chromium, for looking at the panel without
// VS Code. Builds the harness, serves out/webview-dev/ on localhost, and writes
// out/webview-dev/screenshots/<scenario>-<theme>.png. Fails on any console error (CSP included).
//   node webview/dev/screenshot.mjs [scenario,scenario…] [theme,theme…]
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { chromium } from 'playwright-core';

const root = 'out/webview-dev';
execFileSync('node', ['webview/dev/build.mjs'], { stdio: 'inherit' });
const scenarios = (process.argv[2] ?? 'tensor,attention,scores,params,gpt2,empty,error,busy,banner,wide,heads').split(',');
const themes = (process.argv[3] ?? 'light,dark').split(',');
const width = Number(process.env.WIDTH ?? 1100);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

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
const port = server.address().port;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
mkdirSync(join(root, 'screenshots'), { recursive: true });
const problems = [];
for (const theme of themes) {
  for (const scenario of scenarios) {
    const page = await browser.newPage({ viewport: { width, height: 800 }, deviceScaleFactor: Number(process.env.DPR ?? 1) });
    page.on('console', (m) => m.type() === 'error' && problems.push(`${scenario}/${theme}: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`${scenario}/${theme}: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/index.html?theme=${theme}&scenario=${scenario}`);
    await page.waitForTimeout(300);
    if (process.env.HOVER) {
      const target = page.locator(process.env.HOVER).first();
      const box = await target.boundingBox();
      if (box) await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.7);
      await page.waitForTimeout(100);
    }
    const file = join(root, 'screenshots', `${scenario}-${theme}${process.env.SUFFIX ?? ''}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
    await page.close();
  }
}
await browser.close();
server.close();
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
