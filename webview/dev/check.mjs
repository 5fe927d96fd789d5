// Behaviour checks of the real webview bundle in headless Chromium, driven by the fake host: the
// test hooks the end-to-end tests rely on, the keyboard, head selection, tabs, restore after a
// reload, and no CSP violation or script error anywhere. Not part of `npm test` (it needs
// Chromium); run it after changing the webview:
//   node webview/dev/check.mjs
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, watchProblems } from './harness.mjs';

let harness;
const problems = [];
before(async () => (harness = await startHarness()));
after(async () => {
  await harness?.close();
});

async function open(scenario, theme = 'dark', context) {
  const page = await (context ?? harness.browser).newPage({ viewport: { width: 1100, height: 800 } });
  watchProblems(page, scenario, problems);
  await page.goto(harness.url(scenario, theme));
  return page;
}

const text = (page, testid) => page.getByTestId(testid).first().textContent();

test('logits step (real tiny-llama output): predictions with decoded tokens, loss per position and the mean', async () => {
  const page = await open('llama');
  await page.getByTestId('predictions').waitFor();
  const rows = page.getByTestId('prediction');
  assert.equal(await rows.count(), 10, 'top 10 for the last position');
  assert.ok((await rows.first().getAttribute('data-token')).length > 0, 'decoded, not an id');
  assert.match(await text(page, 'mean-loss'), /mean loss \d+\.\d{3} nats over \d+ next tokens/);
  const table = page.getByTestId('prediction-table');
  const positions = await page.evaluate(() => window.__TI_RECORDED__.model.ids.length);
  assert.equal(await table.locator('tbody tr').count(), positions);
  assert.match(await page.locator('.view-caption').nth(1).textContent(), /every 2nd column/);
  // Every input token is reachable: the chips past the first 32 open from "+N more".
  const more = page.getByTestId('tokens-more');
  assert.ok(positions > 32, 'the recorded input is longer than the chips shown at first');
  await more.locator('summary').click();
  assert.equal(await page.locator('.model-tokens .token').count(), positions);
  assert.ok(await page.locator('.model-tokens .token').last().isVisible());
  await page.close();
});

test('attention (real tiny-llama): fills the main column, line view, layers × heads overview opens a head', async () => {
  const page = await open('llama-attention');
  const heatmap = page.getByTestId('attention-heatmap');
  await heatmap.waitFor();
  const canvas = await heatmap.locator('canvas').boundingBox();
  const toolbar = await page.locator('.attention-toolbar').boundingBox();
  assert.ok(
    canvas.width >= toolbar.width - 120,
    `the heatmap (${canvas.width} px) takes the main column (${toolbar.width} px)`,
  );
  assert.match(await text(page, 'head-stats'), /^Head 0$/);
  await page.locator('[data-mode="lines"]').click();
  await page.getByTestId('attention-lines').waitFor();
  await page.locator('[data-mode="overview"]').click();
  await page.getByTestId('attention-overview').waitFor();
  const tiles = page.getByTestId('overview-tile');
  assert.equal(await tiles.count(), 12, '3 layers × 4 heads');
  await page
    .locator('[data-testid="overview-tile"][data-hook="blocks.1.attn.hook_pattern"][data-head="3"]')
    .click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="step-name"]')?.textContent === 'blocks.1.attn.hook_pattern',
  );
  await page.waitForFunction(
    () => document.querySelector('[data-testid="attention-heatmap"]')?.getAttribute('data-head') === '3',
  );
  await page.getByTestId('log-counts').check();
  await page.waitForFunction(() =>
    /log counts\)/.test(document.querySelector('.histogram-caption')?.textContent ?? ''),
  );
  await page.close();
});

test('tensor step: hook name, heatmap size, seeded badge, keyboard stepping', async () => {
  const page = await open('tensor');
  await page.getByTestId('step-name').waitFor();
  assert.equal(await text(page, 'step-name'), 'hook_embed');
  const heatmap = page.getByTestId('tensor-heatmap');
  assert.equal(await heatmap.getAttribute('data-rows'), '5');
  assert.equal(await heatmap.getAttribute('data-cols'), '16');
  assert.equal(await page.getByTestId('seeded-badge').count(), 1);
  assert.match(await text(page, 'seeded-badge'), /seeded random weights/);

  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="step-name"]')?.textContent === 'hook_pos_embed',
  );
  assert.match(await text(page, 'step-position'), /^2 \/ 2 computed so far$/);
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="step-name"]')?.textContent === 'hook_embed',
  );
  await page.keyboard.press('End');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="step-name"]')?.textContent === 'ln_final.hook_normalized',
  );
  assert.match(await text(page, 'step-position'), /^31 \/ 31$/, 'done: n is the total');
  // The toolkit's <vscode-button> holds a native button in its shadow root: that one is disabled.
  assert.ok(
    await page.locator('[data-command="stepForward"] button').isDisabled(),
    'nothing after the last step',
  );
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelector('[data-testid="step-name"]') === null);
  assert.match(await page.locator('.step-name').textContent(), /Before the first step/);
  assert.ok(await page.locator('[data-command="stepBack"] button').isDisabled());
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="step-name"]')?.textContent === 'hook_embed',
  );
  await page.close();
});

test('buttons keep focus across re-renders and have names and a visible focus ring', async () => {
  const page = await open('tensor');
  await page.getByTestId('step-name').waitFor();
  const forward = page.getByRole('button', { name: 'Step forward' });
  await forward.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="step-name"]')?.textContent === 'hook_pos_embed',
  );
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Step forward');
  // The ring is drawn on the focused native control inside the toolkit's <vscode-button>.
  const outline = await page.evaluate(() => {
    const host = document.activeElement;
    return window.getComputedStyle(host.shadowRoot?.activeElement ?? host).outlineStyle;
  });
  assert.notEqual(outline, 'none');
  await page.close();
});

test('attention step: heatmap hooks, head selection by click and keyboard, hover value', async () => {
  const page = await open('attention');
  const map = page.getByTestId('attention-heatmap');
  await map.waitFor();
  assert.deepEqual(
    await map.evaluate((el) => [el.dataset.heads, el.dataset.queries, el.dataset.keys, el.dataset.head]),
    ['4', '5', '5', '0'],
  );
  await page.getByRole('button', { name: 'Head 2' }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="attention-heatmap"]')?.getAttribute('data-head') === '2',
  );
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-focus-key')), 'head-2');
  // Arrows move between heads without stepping; Enter selects.
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="attention-heatmap"]')?.getAttribute('data-head') === '3',
  );
  assert.equal(
    await text(page, 'step-name'),
    'blocks.0.attn.hook_pattern',
    'arrows in the head grid did not step',
  );
  // Hover the diagonal cell of the last query, then a masked cell above the diagonal.
  const box = await page.locator('[data-testid="attention-heatmap"] canvas').boundingBox();
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height * 0.9);
  assert.match(
    await page.locator('.tooltip').textContent(),
    /head 3 · query “5” \(4\) → key “5” \(4\)weight \d/,
  );
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height * 0.1);
  assert.match(await page.locator('.tooltip').textContent(), /masked out/);
  await page.mouse.move(0, 0);
  assert.equal(
    await page.locator('.legend-masked').textContent(),
    'masked out',
    'the legend names masked cells',
  );
  await page.close();
});

test('scores: the −1e9 fill is masked, not the scale minimum', async () => {
  const page = await open('scores');
  await page.getByTestId('attention-heatmap').waitFor();
  const stats = await page.locator('.stats dd').allTextContents();
  assert.ok(!stats[0].includes('e9'), `min ${stats[0]}`);
  assert.match(await page.locator('.legend-end').first().textContent(), /^min −1\.\d+$/);
  await page.close();
});

test('parameters: totals with separators, expandable rows, exact bytes on hover; showTab switches tabs', async () => {
  const page = await open('gpt2');
  await page.getByTestId('param-total').waitFor({ state: 'visible' });
  assert.match(await text(page, 'param-total'), /124,439,808/);
  assert.equal(await page.getByRole('tab', { name: 'Parameters' }).getAttribute('aria-selected'), 'true');
  const expand = page.getByRole('button', { name: 'Expand blocks' });
  await expand.click();
  await page.getByRole('button', { name: 'Expand h.11' }).waitFor();
  assert.equal(
    await page.getByRole('button', { name: 'Collapse blocks' }).getAttribute('aria-expanded'),
    'true',
  );
  assert.equal(
    await page.getByRole('cell', { name: '474.7 MiB' }).getAttribute('title'),
    '497,759,232 bytes',
  );
  await page.getByRole('tab', { name: 'Step' }).click();
  await page.getByTestId('step-name').waitFor({ state: 'visible' });
  // Tabs follow the ARIA pattern: arrows move the selection and the focus, without stepping.
  await page.keyboard.press('ArrowRight');
  await page.getByTestId('param-total').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-params');
  await page.keyboard.press('ArrowLeft');
  await page.getByTestId('step-name').waitFor({ state: 'visible' });
  assert.equal(await text(page, 'step-name'), 'hook_embed');
  assert.equal(await page.getByTestId('seeded-badge').count(), 0, 'real weights: no badge');
  await page.close();
});

test('reload restores tab, step and head from getState', async () => {
  const context = await harness.browser.newContext();
  const page = await open('attention', 'dark', context);
  await page.getByTestId('attention-heatmap').waitFor();
  await page.getByRole('button', { name: 'Head 1' }).click();
  await page.keyboard.press('Escape');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="step-name"]')?.textContent === 'blocks.0.attn.hook_z',
  );
  await page.keyboard.press('ArrowLeft');
  await page.getByTestId('attention-heatmap').waitFor();
  await page.reload();
  const map = page.getByTestId('attention-heatmap');
  await map.waitFor();
  assert.equal(await map.getAttribute('data-head'), '1');
  assert.equal(await text(page, 'step-name'), 'blocks.0.attn.hook_pattern');
  await context.close();
});

test('empty, error and busy states are never blank', async () => {
  const empty = await open('empty');
  await empty.getByTestId('empty-state').waitFor();
  assert.match(await text(empty, 'empty-state'), /Transformer Inspector: Open Inspector/);
  await empty.close();
  const error = await open('error');
  await error.getByTestId('error-message').waitFor();
  assert.match(await text(error, 'error-message'), /W_Q has shape \[16, 8\]/);
  assert.match(await error.locator('.error-where').textContent(), /tutorial\.safetensors/);
  await error.close();
  const busy = await open('busy');
  await busy.getByRole('progressbar').first().waitFor();
  assert.match(await busy.locator('.placeholder-message').textContent(), /Loading weights… 42%/);
  await busy.close();
  const banner = await open('banner');
  await banner.getByTestId('error-message').waitFor();
  assert.equal(await banner.getByTestId('step-name').count(), 1, 'the error banner keeps the step visible');
  await banner.close();
});

test('theme change re-renders the heatmap with the new palette', async () => {
  const page = await open('tensor', 'light');
  const canvas = page.locator('[data-testid="tensor-heatmap"] canvas');
  await canvas.waitFor();
  const pixel = () =>
    canvas.evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
      return sum / (d.length / 4);
    });
  const light = await pixel();
  await page.evaluate(() => {
    document.body.classList.replace('vscode-light', 'vscode-dark');
  });
  await page.waitForTimeout(100);
  const dark = await page.locator('[data-testid="tensor-heatmap"] canvas').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
    return sum / (d.length / 4);
  });
  assert.ok(dark < light - 100, `darker palette after the switch (${light.toFixed(0)} → ${dark.toFixed(0)})`);
  await page.close();
});

test("the standard controls are the UI toolkit's components, upgraded under the panel's policy", async () => {
  const page = await open('tensor');
  await page.getByTestId('step-name').waitFor();
  const upgraded = () =>
    page.evaluate(() =>
      ['vscode-button', 'vscode-dropdown', 'vscode-panels', 'vscode-panel-tab', 'vscode-data-grid'].map(
        (t) =>
          `${t}: ${document.querySelectorAll(t).length} ${Boolean(document.querySelector(t)?.shadowRoot)}`,
      ),
    );
  const facts = await upgraded();
  assert.deepEqual(
    facts.map((f) => f.replace(/ \d+ /, ' n ')),
    [
      'vscode-button: n true',
      'vscode-dropdown: n true',
      'vscode-panels: n true',
      'vscode-panel-tab: n true',
      'vscode-data-grid: n true',
    ],
    facts.join('; '),
  );
  assert.equal(await page.locator('body').getAttribute('data-csp-violations'), null, 'no violation counted');
  await page.close();
  // The count is live: a <style> without the nonce is refused and counted (so none above means none).
  // On a page of its own, not watched: this violation is the point.
  const canary = await harness.browser.newPage();
  await canary.goto(harness.url('tensor'));
  await canary.getByTestId('step-name').waitFor();
  await canary.evaluate(() =>
    document.head.append(Object.assign(document.createElement('style'), { textContent: 'p{}' })),
  );
  await canary.waitForFunction(() => document.body.dataset.cspViolations === '1');
  await canary.close();
});

test('the step dropdown goes to the chosen step; keys inside it do not step', async () => {
  const page = await open('tensor');
  await page.getByTestId('step-name').waitFor();
  const jump = page.locator('vscode-dropdown[data-focus-key="jump"]');
  await jump.click();
  await page.locator('vscode-option[value="blocks.0.attn.hook_pattern"]').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="step-name"]')?.textContent === 'blocks.0.attn.hook_pattern',
  );
  assert.equal(
    await jump.evaluate((el) => el.value),
    'blocks.0.attn.hook_pattern',
    'the dropdown shows where it went',
  );
  // Focus stays on the dropdown across the re-render; ← there moves its selection, not the stepper.
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-focus-key')), 'jump');
  const position = await text(page, 'step-position');
  await page.keyboard.press('Home');
  await page.waitForTimeout(200);
  assert.equal(await text(page, 'step-position'), position, 'Home in the dropdown did not reset');
  await page.close();
});

test('the parameter data grid: the twistie opens by keyboard, arrows move between cells', async () => {
  const page = await open('gpt2');
  await page.getByTestId('param-total').waitFor({ state: 'visible' });
  const grid = page.locator('vscode-data-grid.param-table');
  assert.equal(await grid.getAttribute('aria-label'), 'Parameters by group');
  assert.equal(await grid.locator('vscode-data-grid-cell[cell-type="columnheader"]').count(), 4);
  await page.getByRole('button', { name: 'Expand blocks' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Collapse blocks' }).waitFor();
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute('aria-label')),
    'Collapse blocks',
    'focus stays on the twistie',
  );
  const firstCell = grid.locator('vscode-data-grid-row').nth(1).locator('vscode-data-grid-cell').nth(1);
  await firstCell.click();
  await page.keyboard.press('ArrowDown');
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute('grid-column')),
    '2',
    'ArrowDown moved to the next row, same column',
  );
  await page.close();
});

test('work of unknown length shows the progress ring; a known fraction the bar', async () => {
  const banner = await open('banner');
  await banner.locator('.busy-status vscode-progress-ring').waitFor();
  await banner.close();
  const busy = await open('busy');
  await busy.getByRole('progressbar').first().waitFor();
  assert.equal(await busy.locator('vscode-progress-ring').count(), 0);
  await busy.close();
});

test('Quantization tab (real GPTQ output): figures, 21 layer bars, float | quantized | difference stepping with the stepper', async () => {
  const page = await open('llama-quant');
  await page.getByTestId('quant-compare').waitFor();
  assert.equal(await page.getByTestId('quant-layer').count(), 21);
  assert.equal(await page.getByTestId('quant-heatmap').count(), 3);
  const hook = () => page.getByTestId('quant-compare').getAttribute('data-hook');
  assert.equal(await hook(), await text(page, 'step-name'));
  assert.ok(Number(await page.getByTestId('quant-compare').getAttribute('data-rel-error')) > 0);
  await page.keyboard.press('ArrowRight'); // the stepper's keys work in this tab too
  await page.waitForFunction(() => document.querySelector('[data-testid="quant-compare"]')?.getAttribute('data-hook') === 'logits');
  assert.equal(await text(page, 'step-name'), 'logits');
  await page.getByRole('tab', { name: 'Parameters' }).click();
  await page.getByTestId('params-quant-memory').waitFor();
  await page.close();
});

test('no CSP violation or script error in any scenario (every page above too)', async () => {
  for (const scenario of ['wide', 'heads', 'params']) {
    const page = await open(scenario);
    await page.waitForTimeout(300);
    await page.close();
  }
  assert.deepEqual(problems, []);
});
