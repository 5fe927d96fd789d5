// Behaviour checks of the Analyses tab and of long inputs in headless Chromium (the fake host plays
// recorded tiny-llama analyses, and a 4,096-token attention pattern). Measures that no task blocks
// the webview thread for more than 50 ms while zooming and panning, and that no tile the panel gets
// is bigger than what it draws. Not part of `npm test` (it needs Chromium):
//   node webview/dev/check-analyses.mjs
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, watchProblems } from './harness.mjs';

let harness;
const problems = [];
before(async () => (harness = await startHarness()));
after(async () => {
  await harness?.close();
  assert.deepEqual(problems, [], 'no console error or CSP violation');
});

async function open(scenario, theme = 'dark') {
  const page = await harness.browser.newPage({ viewport: { width: 1100, height: 1200 } });
  watchProblems(page, scenario, problems);
  // Long tasks (> 50 ms on the main thread), from the start.
  await page.addInitScript(() => {
    window.__TI_LONG__ = [];
    new window.PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__TI_LONG__.push({ at: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(harness.url(scenario, theme));
  return page;
}

const longTasks = (page, since = 0) =>
  page.evaluate((t) => window.__TI_LONG__.filter((e) => e.at >= t), since);

test('logit lens: layers × positions, the top token and probability per cell, the top-k on focus', async () => {
  const page = await open('llama-lens');
  const grid = page.getByTestId('lens-grid');
  await grid.waitFor();
  assert.equal(await grid.getAttribute('data-layers'), '4', 'the embeddings and 3 blocks');
  const positions = Number(await grid.getAttribute('data-positions'));
  assert.equal(await page.getByTestId('lens-cell').count(), 4 * Math.min(32, positions));
  const cell = page.getByTestId('lens-cell').first();
  assert.match(await cell.textContent(), /\d+(\.\d+)?%/);
  await cell.focus();
  const tip = page.locator('.tooltip');
  await tip.waitFor();
  assert.equal(await tip.locator('.tooltip-line').count(), 5, 'the top 5');
  // Later positions page in.
  await page.getByRole('button', { name: 'later ▶' }).click();
  assert.equal(
    await page.getByTestId('lens-cell').first().getAttribute('data-position'),
    String(Math.min(32, positions - 32)),
  );
});

test('head detectors: the previous-token head of tiny-llama is L2 H1; clicking it opens its pattern', async () => {
  const page = await open('llama-heads');
  const best = page.locator('[data-testid=heads-previous_token] .heads-cell.best');
  await best.waitFor();
  assert.equal(await best.getAttribute('data-layer'), '2');
  assert.equal(await best.getAttribute('data-head'), '1');
  await best.click();
  await page.getByTestId('attention-heatmap').waitFor();
  assert.equal(await page.getByTestId('step-name').textContent(), 'blocks.2.attn.hook_pattern');
  assert.equal(await page.getByTestId('attention-heatmap').getAttribute('data-head'), '1');
});

test('choosing heads in the detector grid, then ablating them', async () => {
  const page = await open('llama-heads');
  await page.getByTestId('head-cell').first().waitFor();
  await page.getByTestId('choose-heads').check();
  await page.locator('[data-testid=heads-induction] [data-layer="2"][data-head="1"]').click();
  assert.equal(
    await page
      .locator('[data-testid=heads-induction] [data-layer="2"][data-head="1"]')
      .getAttribute('aria-pressed'),
    'true',
  );
  await page.locator('.analysis-choice[data-analysis=ablation]').click();
  assert.equal(await page.getByTestId('ablate-heads').textContent(), 'L2 H1');
  await page.getByTestId('run-analysis').click();
  await page.getByTestId('ablation-summary').waitFor();
  assert.match(
    await page.getByTestId('ablation-summary').textContent(),
    /Replaced blocks\.2\.attn\.hook_z; rerun from layer 2\. loss \d/,
  );
  await page.locator('.ablation-cell').nth(5).click();
  assert.equal(await page.getByTestId('ablation-detail').getAttribute('data-position'), '5');
});

test('attribution bars add up; patching: a cell gives its value, arrows move, Enter opens the hook', async () => {
  const page = await open('llama-attribution');
  await page.getByTestId('attribution').waitFor();
  assert.equal(await page.getByTestId('attribution-sum').getAttribute('data-matches'), 'true');
  assert.ok((await page.getByTestId('attribution-bar').count()) >= 10);
  // Run without a target: the form says what is missing, nothing is sent.
  await page.getByTestId('run-analysis').click();
  assert.match(await page.locator('.analysis-message').textContent(), /Type the target/);
  const p = await open('llama-patching');
  await p.getByTestId('patching-heatmap').waitFor();
  const box = await p.locator('[data-testid=patching-heatmap] canvas').boundingBox();
  await p.mouse.click(box.x + box.width * (9.5 / 48), box.y + box.height * 0.1);
  assert.match(
    await p.getByTestId('patch-detail').textContent(),
    /blocks\.0\.hook_resid_pre · position 9 .*: 1 of the way/,
  );
  await p.getByTestId('patching-cells').focus();
  await p.keyboard.press('ArrowDown');
  assert.match(await p.getByTestId('patch-detail').textContent(), /blocks\.1\.hook_resid_pre · position 9/);
  await p.keyboard.press('Enter');
  await p.getByTestId('step-name').waitFor();
});

test('patching: double-clicking a cell opens its patched run in the Step tab, labelled; Back returns to the normal run', async () => {
  const p = await open('llama-patching');
  await p.getByTestId('patching-heatmap').waitFor();
  const box = await p.locator('[data-testid=patching-heatmap] canvas').boundingBox();
  // Row 1 (blocks.1.hook_resid_pre) of 3, position 9.
  await p.mouse.dblclick(box.x + box.width * (9.5 / 48), box.y + box.height * (1.5 / 3));
  const banner = p.getByTestId('patched-banner');
  await banner.waitFor();
  assert.equal(await banner.getAttribute('data-hook'), 'blocks.1.hook_resid_pre');
  assert.match(await banner.textContent(), /Patched run — layer 1, position 9 \(residual stream\) from the clean run/);
  assert.equal(await p.getByTestId('step-name').textContent(), 'blocks.1.hook_resid_pre');
  await p.getByTestId('unpatch').click();
  await banner.waitFor({ state: 'detached' });
});

test('Compare With… the quantized copy: both models named, A, B and B − A', async () => {
  const page = await open('llama-compare-models');
  const c = page.getByTestId('comparison');
  await c.waitFor();
  assert.equal(await c.getAttribute('data-models'), 'two');
  assert.match(await page.locator('[data-testid=compare-a]').locator('xpath=..').textContent(), /A: tiny-llama\/config\.json/);
  assert.match(await page.locator('[data-testid=compare-b]').locator('xpath=..').textContent(), /B: quantized copy \(gptq, 4 bits, groups of 32\)/);
  assert.equal(await page.getByTestId('compare-diff').count(), 1);
  assert.match(await page.getByTestId('compare-about').textContent(), /Two models on this input/);
});

test('the chooser is one tab stop; arrows move between the analyses', async () => {
  const page = await open('llama-lens');
  await page.getByTestId('lens-grid').waitFor();
  await page.locator('.analysis-choice[data-analysis=lens]').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getByTestId('analyses').getAttribute('data-analysis'), 'attribution');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.analysis), 'attribution');
});

test('attention: a click pins a query row and shows the keys it reads; Escape unpins', async () => {
  const page = await open('llama-attention');
  const map = page.locator('[data-testid=attention-heatmap] canvas');
  await map.waitFor();
  const box = await map.boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height * (20.5 / 48));
  const pinned = page.getByTestId('pinned-query');
  await pinned.waitFor();
  assert.equal(await pinned.getAttribute('data-query'), '20');
  assert.equal(await page.getByTestId('pinned-row').getAttribute('data-query'), '20');
  const weights = await page.locator('.pin-token:not(.masked)').count();
  assert.equal(weights, 21, 'a causal query reads itself and the 20 before it');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.getByTestId('pinned-query').getAttribute('data-query'), '21');
  await page.keyboard.press('Escape');
  await page.getByTestId('pinned-query').waitFor({ state: 'detached' });
});

test('4,096 tokens: zoom and pan stay under 50 ms a task, tiles never bigger than drawn, full resolution when zoomed in', async () => {
  const page = await open('long');
  const zoom = page.getByTestId('attention-zoom');
  await zoom.waitFor();
  await page.waitForTimeout(300);
  const hostReady = await page.evaluate(() => window.__TI_HOST_READY__);
  const opened = await longTasks(page, hostReady);
  const t0 = await page.evaluate(() => performance.now());
  const canvas = page.getByTestId('attention-zoom-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.8);
  for (let i = 0; i < 20; i++) {
    await page.mouse.wheel(0, -120);
    await page.waitForTimeout(16);
  }
  // Drag to pan, then the keyboard.
  await page.mouse.down();
  for (let i = 0; i < 20; i++)
    await page.mouse.move(box.x + box.width * 0.7 - i * 8, box.y + box.height * 0.8 - i * 5);
  await page.mouse.up();
  await zoom.focus();
  for (const key of ['ArrowLeft', 'ArrowLeft', 'ArrowUp', '+', '-', 'ArrowRight'])
    await page.keyboard.press(key);
  await page.waitForFunction(
    () => document.querySelector('.attention-zoom')?.dataset.resolution === '1x1',
    null,
    { timeout: 5000 },
  );
  const during = await longTasks(page, t0);
  const drawMs = Number(await page.locator('.attention-zoom').getAttribute('data-last-draw-ms'));
  const asked = await page.evaluate(() => window.__TI_ASKED__);
  const side = await page.evaluate(() => {
    const c = document.querySelector('[data-testid=attention-zoom-canvas]');
    return { w: c.width, h: c.height };
  });
  const win = (await page.locator('.attention-zoom').getAttribute('data-window')).split(',').map(Number);
  console.log(
    `# long input: ${opened.length} long tasks while opening (${opened.map((e) => e.ms.toFixed(0)).join(', ') || 'none'} ms); ${during.length} while zooming and panning (${during.map((e) => e.ms.toFixed(0)).join(', ') || 'none'} ms); last draw ${drawMs} ms; ${asked.length} tiles asked, largest ${Math.max(...asked.map((a) => a.values))} values; window ${win}`,
  );
  assert.deepEqual(during, [], 'no task over 50 ms while zooming and panning');
  assert.ok(asked.length >= 1 && asked.length < 20, `requests are debounced (${asked.length})`);
  for (const a of asked) {
    assert.ok(a.cells <= side.w, `asked ${a.cells} cells for a ${side.w}-pixel canvas`);
    assert.ok(a.values <= side.w * side.h, 'a tile is never bigger than the canvas');
  }
  assert.ok(win[1] - win[0] < 4096 / 8, 'zoomed in');
  // Back to the whole grid: drawn from the pooled step at once.
  await page.getByTestId('zoom-reset').click();
  await page.waitForFunction(() =>
    document
      .querySelector('[data-testid=zoom-caption]')
      ?.textContent?.startsWith('queries 0–4095 · keys 0–4095'),
  );
  assert.deepEqual(opened, [], 'opening the 4,096-token step blocks no task over 50 ms');
});

test('Compare With…: A, B and B − A at the same hook, the top changes, the hooks that changed most; Close', async () => {
  const page = await open('llama-compare');
  const c = page.getByTestId('comparison');
  await c.waitFor();
  assert.equal(await c.getAttribute('data-hook'), 'blocks.2.attn.hook_pattern');
  for (const id of ['compare-a', 'compare-b', 'compare-diff'])
    assert.equal(await page.getByTestId(id).count(), 1, id);
  assert.equal(await page.locator('[data-testid=compare-changes] tbody tr').count(), 8);
  await page.locator('.compare-hooks .link-button').first().click();
  await page.getByRole('button', { name: 'Close' }).click();
  await c.waitFor({ state: 'detached' });
});
