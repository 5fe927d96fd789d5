// Screenshots of the webview dev harness in headless Chromium, for looking at the panel without
// VS Code: out/webview-dev/screenshots/<scenario>-<theme>.png. Fails on any console error (CSP too).
//   node webview/dev/screenshot.mjs [scenario,scenario…] [theme,theme…]
//   env: WIDTH (1100), DPR (1), CLICK (a selector to click first), SELECTOR (shoot only this element), HOVER (a selector to hover before the shot), SUFFIX
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { root, startHarness, watchProblems } from './harness.mjs';

const scenarios = (
  process.argv[2] ?? 'tensor,attention,scores,params,gpt2,empty,error,busy,banner,wide,heads'
).split(',');
const themes = (process.argv[3] ?? 'light,dark').split(',');
const width = Number(process.env.WIDTH ?? 1100);

const harness = await startHarness();
mkdirSync(join(root, 'screenshots'), { recursive: true });
const problems = [];
for (const theme of themes) {
  for (const scenario of scenarios) {
    const page = await harness.browser.newPage({
      viewport: { width, height: 800 },
      deviceScaleFactor: Number(process.env.DPR ?? 1),
    });
    watchProblems(page, `${scenario}/${theme}`, problems);
    await page.goto(harness.url(scenario, theme));
    await page.waitForTimeout(300);
    if (process.env.CLICK) {
      await page.locator(process.env.CLICK).first().click();
      await page.waitForTimeout(200);
    }
    if (process.env.HOVER) {
      const box = await page.locator(process.env.HOVER).first().boundingBox();
      if (box) await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.7);
      await page.waitForTimeout(100);
    }
    const file = join(root, 'screenshots', `${scenario}-${theme}${process.env.SUFFIX ?? ''}.png`);
    if (process.env.SELECTOR) await page.locator(process.env.SELECTOR).first().screenshot({ path: file });
    else await page.screenshot({ path: file, fullPage: true });
    console.log(file);
    await page.close();
  }
}
await harness.close();
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
