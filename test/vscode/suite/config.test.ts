// Config editing inside a real VS Code: hovers with numbers from the analysis, the CodeLens,
// diagnostics on the right key (and for malformed JSON), updates from unsaved edits.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import { api, closeEverything, hoverText, MISTRAL, TUTORIAL, waitFor } from './helpers';

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Transformer Inspector');
}

describe('config editing: *.transformer.json and config.json', function () {
  this.timeout(60_000);
  let a: TestApi;
  let dir: string;

  before(async () => {
    a = await api();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-config-'));
  });
  after(async () => {
    await closeEverything();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hover over d_ff: what it means and the FFN parameters per layer and in total', async () => {
    const doc = await vscode.workspace.openTextDocument(TUTORIAL);
    await vscode.window.showTextDocument(doc);
    const text = await hoverText(doc, '"d_ff"');
    assert.match(text, /\*\*`d_ff`\*\* — Hidden width of the position-wise feed-forward layer/);
    assert.match(text, /\*\*1,072\*\* parameters per layer/);
    assert.match(text, /all layers: \*\*2,144\*\* parameters/);
  });

  it('hover over num_heads and d_model quote head dim and totals', async () => {
    const doc = await vscode.workspace.openTextDocument(TUTORIAL);
    assert.match(await hoverText(doc, '"num_heads"'), /2 query heads of d_head = \*\*8\*\*/);
    assert.match(await hoverText(doc, '"d_model"'), /\*\*5,536\*\* parameters/);
  });

  it('hover over num_key_value_heads: head dim, KV cache per token, and the full-MHA comparison', async () => {
    const doc = await vscode.workspace.openTextDocument(MISTRAL);
    const text = await hoverText(doc, '"num_key_value_heads"');
    assert.match(text, /d_head = \*\*128\*\*/);
    assert.match(text, /\*\*128 KiB per token\*\*/);
    assert.match(text, /With full multi-head attention \(num_key_value_heads = 32\) it would be 512 KiB per token/);
  });

  it('a CodeLens on top gives the total and an Inspect action', async () => {
    const doc = await vscode.workspace.openTextDocument(TUTORIAL);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.ok(titles.some((t) => t.includes('5,536 parameters')), titles.join(' | '));
    const inspect = lenses.find((l) => l.command?.title.includes('Inspect'));
    assert.equal(inspect?.command?.command, 'transformerInspector.open');
    assert.equal(inspect?.range.start.line, 0);
  });

  it('an inconsistent value is reported on its key; fixing it in the editor (unsaved) clears it', async () => {
    const file = path.join(dir, 'broken.transformer.json');
    fs.writeFileSync(file, '{\n  "vocab_size": 32,\n  "d_model": 16,\n  "num_heads": 3,\n  "d_ff": 32,\n  "num_layers": 2,\n  "max_len": 16\n}\n');
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const diags = await waitFor('a diagnostic', () => {
      a.config.flushDiagnostics();
      const d = ours(doc.uri);
      return d.length > 0 ? d : undefined;
    });
    assert.equal(diags.length, 1);
    assert.match(diags[0].message, /d_model \(16\) must be divisible by num_heads \(3\)/);
    assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Error);
    assert.equal(doc.getText(diags[0].range), '"num_heads"', 'underlines the key');
    // the hover still explains the key and says why there are no numbers
    assert.match(await hoverText(doc, '"num_heads"'), /The numbers wait for a valid config: d_model \(16\) must be divisible/);

    const edit = new vscode.WorkspaceEdit();
    const at = doc.getText().indexOf('3,');
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + 1)), '4');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.equal(doc.isDirty, true, 'the fix is not saved: the document text is what counts');
    await waitFor('the diagnostic to clear', () => {
      a.config.flushDiagnostics();
      return ours(doc.uri).length === 0;
    });
    assert.match(await hoverText(doc, '"num_heads"'), /4 query heads of d_head = \*\*4\*\*/, 'numbers follow the unsaved text');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('malformed JSON is reported at its offset', async () => {
    const file = path.join(dir, 'syntax.transformer.json');
    fs.writeFileSync(file, '{\n  "vocab_size": 32\n  "d_model": 16\n}\n');
    const doc = await vscode.workspace.openTextDocument(file);
    const diags = await waitFor('a syntax diagnostic', () => {
      a.config.flushDiagnostics();
      const d = ours(doc.uri);
      return d.length > 0 ? d : undefined;
    });
    assert.match(diags[0].message, /malformed JSON: comma expected/);
    assert.equal(diags[0].range.start.line, 2);
  });

  it('a nested key (masks[0].window) is underlined where it is', async () => {
    const file = path.join(dir, 'masks.transformer.json');
    fs.writeFileSync(file, JSON.stringify({ vocab_size: 32, d_model: 16, num_heads: 2, d_ff: 32, num_layers: 2, max_len: 16, masks: [{ kind: 'sliding_window', window: 0 }] }, null, 2));
    const doc = await vscode.workspace.openTextDocument(file);
    const diags = await waitFor('a diagnostic', () => {
      a.config.flushDiagnostics();
      const d = ours(doc.uri);
      return d.length > 0 ? d : undefined;
    });
    assert.equal(doc.getText(diags[0].range), '"window"');
  });

  it('a config.json without model_type is left alone', async () => {
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, '{"name": "some app", "num_heads": "x"}');
    const doc = await vscode.workspace.openTextDocument(file);
    a.config.flushDiagnostics();
    assert.deepEqual(ours(doc.uri), []);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, doc.positionAt(3));
    assert.ok(hovers.every((h) => !h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('').includes('parameters')));
  });

  it('JSON Schema validation applies to *.transformer.json (VS Code\'s JSON language features)', async function () {
    const file = path.join(dir, 'schema.transformer.json');
    fs.writeFileSync(file, '{\n  "vocab_size": 32,\n  "d_model": 16,\n  "num_heads": 2,\n  "d_ff": 32,\n  "num_layers": 2,\n  "max_len": 16,\n  "norm_placement": "sideways"\n}\n');
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const fromSchema = await waitFor(
      'a schema diagnostic from the JSON language server',
      () => {
        const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source !== 'Transformer Inspector');
        return d.length > 0 ? d : undefined;
      },
      20_000,
    );
    assert.ok(fromSchema.some((d) => doc.getText(d.range).includes('sideways')), fromSchema.map((d) => d.message).join(' | '));
  });
});
