import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GgufFile } from '../../engine/io/gguf';
import { summarizeGguf, type GgufSummary } from '../../engine/cli/gguf';
import { escapeHtml, ggufArchitecture, renderGgufBody } from '../../src/gguf/render';
import { Session, NO_CONTROL } from '../../engine/worker/session';

const Q4 = 'test/fixtures/quant/gguf/llama-Q4_0.gguf';

test('the GGUF view: architecture, parameters, tensors by type with bits/weight, hyperparameters, the open link', () => {
  const s = summarizeGguf(GgufFile.open(Q4), true);
  assert.equal(ggufArchitecture(s), 'llama');
  const html = renderGgufBody(s, 'llama-Q4_0.gguf', 'command:transformerInspector.open?%5B%22x%22%5D');
  assert.match(html, /data-testid="gguf-architecture">llama</);
  assert.match(html, new RegExp(`data-testid="gguf-parameters">${s.parameters.toLocaleString('en-US')}<`));
  const q4 = s.types.Q4_0;
  assert.ok(html.includes(((8 * q4.bytes) / q4.parameters).toFixed(2)), 'Q4_0 bits per weight');
  assert.match(html, /Hyperparameters \(llama\.\*\)/);
  assert.match(html, /<code>attention\.head_count<\/code>/);
  assert.match(html, /data-testid="gguf-open"/);
  assert.match(html, new RegExp(`All ${s.tensors!.length} tensors`));
});

test('the GGUF view escapes every string from the file and runs nothing it does not know', () => {
  const hostile: GgufSummary = {
    file: 'x.gguf',
    version: 3,
    metadata: { 'general.architecture': '"<img src=x onerror=alert(1)>"', '<script>': '"</td><script>alert(1)</script>"' },
    types: { '<b>': { tensors: 1, parameters: 4, bytes: 2 } },
    parameters: 4,
    tensor_bytes: 2,
    tensors: [{ name: '"><svg onload=alert(1)>', type: 'F16', shape: [4] }],
  };
  const html = renderGgufBody(hostile, '<evil>.gguf', 'command:transformerInspector.open');
  assert.ok(!/<script|<img|<svg|<b>/i.test(html), html);
  assert.doesNotMatch(html, /gguf-open/, 'no Open link for an architecture the engine does not run');
  assert.match(html, /is shown, not run/);
  assert.equal(escapeHtml(`<a href="x" title='y'>&`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;');
});

test('a GGUF in the inspector: its parameter breakdown comes from its llama metadata', () => {
  const session = new Session();
  const loaded = session.load(Q4, undefined, 'auto', NO_CONTROL);
  const params = session.params();
  const total = params.totals.find((t) => t.label === 'LlamaForCausalLM');
  assert.equal(total?.count, String(loaded.model.parameterCount));
  assert.equal(total?.count, String(summarizeGguf(GgufFile.open(Q4), false).parameters));
});
