// The numbers and words of the config features in a real VS Code: DeepSeek-V3's hovers add up and
// name latent attention, its CodeLens shows the active parameters, and diagnostics come all at once,
// each on the key at fault with the other keys of its conflict as related locations.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/extension';
import { api, closeEverything, hoverText, LLAMA, ROOT, waitFor } from './helpers';

const DEEPSEEK = path.join(ROOT, 'examples/hf/deepseek-v3/config.json');

describe('numbers that add up, diagnostics all at once', function () {
  this.timeout(60_000);
  let a: TestApi;
  let dir: string;

  before(async () => {
    a = await api();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-numbers-'));
  });
  after(async () => {
    await closeEverything();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('DeepSeek-V3: the MoE layer by its experts, the MTP module labelled, a total that is the sum of its lines', async () => {
    const doc = await vscode.workspace.openTextDocument(DEEPSEEK);
    const ffn = await hoverText(doc, '"intermediate_size"');
    assert.match(ffn, /`experts\.\{j\}` 256 × 44,040,192 \(8 active per token\), `shared_experts` 44,040,192, router 1,835,264/);
    assert.match(ffn, /multi-token prediction\) — not in the model’s total/);
    assert.match(ffn, /Feed-forward, all layers: \*\*657,758,632,448\*\* parameters \(3 × 396,361,728 \+ 58 × 11,320,164,608\)/);
    assert.doesNotMatch(ffn, /in 1 layers/);
    assert.match(await hoverText(doc, '"num_key_value_heads"'), /multi-head latent attention \(MLA\)/);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    assert.ok(lenses.some((l) => /671 B\) · 37\.6 B active per token/.test(l.command?.title ?? '')), lenses.map((l) => l.command?.title).join(' | '));
  });

  it('heads = 7 on Llama: both conflicts at once on num_attention_heads, the other keys related', async () => {
    const file = path.join(dir, 'config.json');
    const json = JSON.parse(fs.readFileSync(LLAMA, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...json, num_attention_heads: 7 }, null, 2));
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const diags = await waitFor('the diagnostics', () => {
      a.config.flushDiagnostics();
      const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'Transformer Inspector');
      return d.length >= 2 ? d : undefined;
    });
    assert.equal(diags.length, 2, diags.map((d) => d.message).join(' | '));
    for (const d of diags) assert.equal(doc.getText(d.range), '"num_attention_heads"', d.message);
    const related = diags.flatMap((d) => (d.relatedInformation ?? []).map((r) => doc.getText(r.location.range))).sort();
    assert.deepEqual(related, ['"hidden_size"', '"num_key_value_heads"']);
    assert.ok(diags.some((d) => /'num_attention_heads' \(7\) must divide 'hidden_size' \(4096\)/.test(d.message)));
  });
});
