// Driving VS Code's web workbench (code-server) through playwright-core: the command palette,
// Quick Open, the active webview's DOM, themes. Every wait is bounded.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const T0 = Date.now();
/** env TI_E2E_TRACE=1: timestamped lines for every UI action, on stderr. */
export function trace(...args) {
  if (process.env.TI_E2E_TRACE === '1')
    console.error(`[e2e +${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...args);
}

/** Waits until the workbench is up and the extension host is connected. */
export async function waitForWorkbench(page, timeout = 60_000) {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout });
  // the status bar is drawn once the workbench has restored its parts
  await page.locator('.part.statusbar').waitFor({ state: 'visible', timeout });
}

async function openQuickInput(page, key) {
  const widget = page.locator('.quick-input-widget');
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press(key);
    try {
      await widget.locator('input').first().waitFor({ state: 'visible', timeout: 3_000 });
      return widget;
    } catch {
      trace(`the quick input did not open with ${key} (attempt ${attempt + 1})`);
      // focus may sit somewhere that swallows the key (e.g. a webview still loading): move it
      await page
        .locator('.part.statusbar')
        .click({ position: { x: 5, y: 5 } })
        .catch(() => {});
    }
  }
  throw new Error(`the quick input did not open with ${key}`);
}

function escapeAttr(s) {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * Runs a command by its title from the command palette (F1, `>` + title, the row with exactly that
 * title). The palette's list is built when it opens, possibly before the extension registered its
 * commands (or before a `when` clause holds): retries until `timeout`.
 */
export async function runCommand(page, title, { timeout = 30_000 } = {}) {
  const deadline = Date.now() + timeout;
  trace(`command: ${title}`);
  for (;;) {
    const widget = await openQuickInput(page, 'F1');
    // A palette that closes again as it opens (focus moving from a notification or the panel) leaves
    // fill waiting on a detached input: bounded here, and retried like a missing row.
    const filled = await widget
      .locator('input')
      .first()
      .fill(`>${title}`, { timeout: 5_000 })
      .then(() => true)
      .catch((e) => {
        trace(`could not type '${title}' into the palette: ${String(e).split('\n')[0]}`);
        return false;
      });
    if (!filled) {
      if (Date.now() > deadline) throw new Error(`command '${title}': the palette did not take the text within ${timeout} ms`);
      continue;
    }
    // the row's aria-label is the title, or the title and ", similar commands" / ", recently used"
    const t = escapeAttr(title);
    const row = widget
      .locator(`.monaco-list-row[aria-label="${t}"], .monaco-list-row[aria-label^="${t}, "]`)
      .first();
    try {
      await row.waitFor({ state: 'visible', timeout: 3_000 });
      await row.click();
      await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
      trace(`ran: ${title}`);
      return;
    } catch (e) {
      const rows = await widget
        .locator('.monaco-list-row')
        .evaluateAll((els) => els.slice(0, 4).map((el) => el.getAttribute('aria-label')))
        .catch(() => []);
      trace(`no row '${title}' yet (rows: ${rows.join(' | ') || 'none'})`);
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) {
        throw new Error(
          `command '${title}' not in the command palette within ${timeout / 1000} s (${e.message.split('\n')[0]})`,
        );
      }
      await sleep(1_000);
    }
  }
}

/**
 * Opens a workspace file by its path relative to the workspace: through the Explorer (no search
 * index needed), else with Quick Open (Ctrl+P). Waits for its editor tab.
 */
export async function openFile(page, relPath, { timeout = 30_000 } = {}) {
  const parts = relPath.split('/');
  const name = parts[parts.length - 1];
  const tab = page.locator(`.tabs-container .tab[aria-label^="${escapeAttr(name)}"]`).first();
  const deadline = Date.now() + timeout;
  trace(`open file: ${relPath}`);
  try {
    const rows = page.locator('.explorer-folders-view .monaco-list-row');
    for (const [i, part] of parts.entries()) {
      const row = rows.and(page.locator(`[aria-level="${i + 1}"][aria-label="${escapeAttr(part)}"]`)).first();
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      const expanded = await row.getAttribute('aria-expanded');
      if (i < parts.length - 1 && expanded === 'true') continue;
      await row.click();
    }
    await tab.waitFor({ state: 'visible', timeout: 10_000 });
    trace(`opened through the Explorer: ${relPath}`);
    return;
  } catch (e) {
    trace(`Explorer did not open ${relPath} (${e.message.split('\n')[0]}); trying Quick Open`);
  }
  for (;;) {
    const widget = await openQuickInput(page, 'Control+P');
    await widget.locator('input').first().fill(relPath);
    const row = widget
      .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: name }) })
      .first();
    try {
      await row.waitFor({ state: 'visible', timeout: 5_000 });
      await page.keyboard.press('Enter');
      await tab.waitFor({ state: 'visible', timeout: 10_000 });
      trace(`opened with Quick Open: ${relPath}`);
      return;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) {
        throw new Error(`could not open ${relPath} within ${timeout / 1000} s (${e.message.split('\n')[0]})`);
      }
      await sleep(1_000);
    }
  }
}

/** The DOM of the last ready webview (page → iframe.webview.ready → iframe#active-frame). */
export function webviewFrame(page) {
  return page
    .locator('iframe.webview.ready')
    .last()
    .contentFrame()
    .locator('iframe#active-frame')
    .contentFrame();
}

/**
 * Switches the color theme as a person would: "Preferences: Color Theme", pick the theme, Enter.
 * Waits for the workbench (and so the webviews) to carry the theme's class.
 */
export async function setTheme(page, kind, { timeout = 30_000 } = {}) {
  const label = kind === 'dark' ? 'Dark Modern' : 'Light Modern';
  const cls = kind === 'dark' ? 'vs-dark' : 'vs';
  const isOn = () =>
    page.evaluate((c) => document.querySelector('.monaco-workbench')?.classList.contains(c), cls);
  if (await isOn()) return;
  trace(`theme: ${label}`);
  await runCommand(page, 'Preferences: Color Theme', { timeout });
  const widget = page.locator('.quick-input-widget');
  await widget.locator('input').first().fill(label);
  const row = widget
    .locator(`.monaco-list-row[aria-label="${label}"], .monaco-list-row[aria-label^="${label},"]`)
    .first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await row.click();
  await page.keyboard.press('Enter').catch(() => {});
  await poll(isOn, { timeout, what: `the ${label} theme` });
  await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => page.keyboard.press('Escape'));
}

/** The workbench's notifications (toasts are hidden in smoke-test-driver mode), as text. */
export async function notificationsText(page) {
  return page.evaluate(() =>
    [
      ...document.querySelectorAll(
        '.notifications-center .notification-list-item, .notifications-toasts .notification-list-item',
      ),
    ]
      .map((e) => e.getAttribute('aria-label') ?? e.textContent)
      .join('\n'),
  );
}

/** Polls `fn` until it returns a truthy value or `timeout` passes; returns the value or throws `what`. */
export async function poll(fn, { timeout = 10_000, interval = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeout / 1000} s waiting for ${what}${last instanceof Error ? `: ${last.message.split('\n')[0]}` : ''}`,
      );
    await sleep(interval);
  }
}
