import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../engine/model/load';
import { InspectorError } from '../../engine/errors';
import { runTrace } from '../../engine/trace/step';
import { sinusoidalTable } from '../../engine/nn/positional';
import { assertClose } from '../helpers/close';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function write(name: string, obj: object): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-limits-'));
  made.push(dir);
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(obj));
  return file;
}

test('a 600-billion-parameter config is refused before anything is allocated, with its size', () => {
  const t0 = performance.now();
  const file = write('config.json', {
    model_type: 'llama', hidden_size: 16384, intermediate_size: 53248, num_attention_heads: 128, num_key_value_heads: 8,
    num_hidden_layers: 190, vocab_size: 128256, max_position_embeddings: 131072,
  });
  assert.throws(
    () => loadModel(file),
    (e: unknown) => e instanceof InspectorError && /parameters/.test(e.message) && /analysis/.test(e.message) && e.place.file === file,
  );
  assert.ok(performance.now() - t0 < 5000, 'refused at once, not after trying to allocate');
  const native = write('huge.transformer.json', { vocab_size: 1_000_000, d_model: 65536, num_heads: 64, d_ff: 262144, num_layers: 100, max_len: 1000 });
  assert.throws(() => loadModel(native), InspectorError);
});

test('a huge max_len does not allocate a huge table; inputs past the precomputed rows still get the formula', () => {
  const file = write('long.transformer.json', { vocab_size: 10, d_model: 8, num_heads: 2, d_ff: 8, num_layers: 1, max_len: 10_000_000 });
  const { model } = loadModel(file);
  const T = 4100;
  const { steps } = runTrace(model.forward({ ids: [Array.from({ length: T }, (_, i) => i % 10)] }));
  const pos = steps.find((s) => s.name === 'hook_pos_embed')!.tensor;
  assertClose(pos.data, sinusoidalTable(T, 8).data, 1e-6, 'positions past 4096');
});
