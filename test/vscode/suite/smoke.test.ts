// The extension activates inside a real VS Code and every command its package.json contributes is
// registered. Reads the manifest at run time, so new commands are covered without editing this file.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

interface Manifest {
  name: string;
  publisher: string;
  contributes?: { commands?: { command: string; title: string }[] };
}

function ourExtension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.all.find((e) => (e.packageJSON as Manifest).name === 'transformer-inspector');
  assert.ok(ext, 'the transformer-inspector extension is loaded as a development extension');
  return ext;
}

describe('smoke: extension loads in VS Code', () => {
  it('runs in a real VS Code', () => {
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    assert.ok(vscode.workspace.workspaceFolders?.length, 'a workspace folder (examples/) is open');
  });

  it('activates without error', async () => {
    const ext = ourExtension();
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers every command in contributes.commands', async () => {
    const ext = ourExtension();
    await ext.activate();
    const contributed = ((ext.packageJSON as Manifest).contributes?.commands ?? []).map((c) => c.command);
    assert.ok(contributed.length > 0, 'package.json contributes at least one command');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });
});
