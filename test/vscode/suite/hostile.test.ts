// Hostile inputs inside a real VS Code (issue 9): a model folder whose tokenizer.json is a symlink to
// /dev/zero keeps the extension host up and shows the named error; the next command works; a webview
// message naming a config this window never opened is not opened.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import { api, closeEverything, last, ROOT, TUTORIAL, waitFor } from './helpers';

describe('hostile inputs', function () {
  this.timeout(60_000);
  let a: TestApi;
  let dir: string;

  before(async () => {
    a = await api();
    await closeEverything();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-vscode-hostile-'));
  });
  after(async () => {
    await closeEverything();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function gpt2Folder(name: string): string {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer_config.json']) fs.copyFileSync(path.join(ROOT, 'test/fixtures/hf/gpt2', f), path.join(d, f));
    return d;
  }

  it('a /dev/zero tokenizer.json: the host stays up, the panel names the error, the next command works', async () => {
    const d = gpt2Folder('zero');
    fs.symlinkSync('/dev/zero', path.join(d, 'tokenizer.json'));
    const t0 = Date.now();
    await vscode.commands.executeCommand('transformerInspector.open', vscode.Uri.file(d));
    await a.inspector.idle();
    assert.ok(Date.now() - t0 < 20_000, 'answered, not hung');
    assert.equal(a.inspector.state.modelLoaded, false);
    assert.match(a.inspector.state.failure ?? '', /cannot read tokenizer: it is a character device \(like \/dev\/zero\), not a regular file/);
    assert.match(last(a.panel.lastMessages, 'error')?.message ?? '', /cannot read tokenizer: it is a character device/);
    // The next command works, in the same extension host.
    await vscode.commands.executeCommand('transformerInspector.open', vscode.Uri.file(TUTORIAL));
    await a.inspector.idle();
    assert.equal(a.inspector.state.configPath, TUTORIAL);
    assert.equal(a.inspector.state.modelLoaded, true);
  });

  it("a webview 'ready' naming a config this window did not open is not opened", async () => {
    await closeEverything();
    await waitFor('the panel to close', () => !a.panel.isOpen);
    const panel = vscode.window.createWebviewPanel('transformerInspector.panel', 'Transformer Inspector', vscode.ViewColumn.One, {});
    await a.panel.deserializeForTest(panel, undefined);
    const never = path.join(gpt2Folder('never-opened'), 'config.json');
    await a.panel.postMessageForTest({ type: 'ready', state: { configPath: never } });
    await a.inspector.idle();
    assert.equal(a.inspector.state.configPath, undefined);
  });
});
