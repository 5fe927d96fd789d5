/** A lying or truncated trace is a named InspectorError (file, key or tensor), never a crash or a wrong view. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tensor } from '../../engine/tensor';
import { encodeSafetensors } from '../../engine/io/safetensors';
import { InspectorError } from '../../engine/errors';
import { TraceFile, isTracePath } from '../../engine/tracefile/reader';
import { MANIFEST_KEY } from '../../engine/tracefile/manifest';
import { traceManifest, writeTrace, type TraceRecord } from '../../engine/tracefile/writer';

const TRACES = path.resolve(__dirname, '..', 'fixtures', 'traces');

const config = { model_type: 'gpt2', n_embd: 4, n_head: 2, n_layer: 1, n_positions: 8, vocab_size: 10 };
const ids = [[1, 2, 3]];
const tensors = () =>
  new Map([
    ['hook_embed', Tensor.fromArray([1, 3, 4], Array.from({ length: 12 }, (_, i) => i / 7))],
    ['blocks.0.attn.hook_pattern', Tensor.fromArray([1, 2, 3, 3], Array.from({ length: 18 }, (_, i) => i / 18))],
    ['logits', new Tensor([1, 3, 10])],
  ]);
const record = (): TraceRecord => ({ writer: { tool: 'test' }, configFormat: 'hf', config, input: { ids }, tensors: tensors() });

function inDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-'));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A file whose tensors are `t` and whose manifest is the writer's, changed by `edit`. */
function lying(dir: string, edit: (m: Record<string, unknown>) => void, t = tensors(), raw?: string): string {
  const m = traceManifest(record()) as unknown as Record<string, unknown>;
  edit(m);
  const p = path.join(dir, 'x.trace.safetensors');
  fs.writeFileSync(p, encodeSafetensors(t, { [MANIFEST_KEY]: raw ?? JSON.stringify(m) }));
  return p;
}

function rejects(p: string, message: RegExp, place: { tensor?: string; key?: string } = {}): void {
  assert.throws(
    () => TraceFile.open(p),
    (e: unknown) => {
      assert.ok(e instanceof InspectorError, `not an InspectorError: ${String(e)}`);
      assert.match(e.message, message);
      assert.ok(e.place.file, 'names the file');
      if (place.tensor) assert.equal(e.place.tensor, place.tensor);
      if (place.key) assert.equal(e.place.key, place.key);
      return true;
    },
  );
}

test('a written trace round-trips', () => {
  inDir((dir) => {
    const p = path.join(dir, 'ok.trace.safetensors');
    writeTrace(p, record());
    const t = TraceFile.open(p);
    assert.deepEqual([...t.hooks], ['hook_embed', 'blocks.0.attn.hook_pattern', 'logits']);
    assert.deepEqual(t.read('hook_embed').data, tensors().get('hook_embed')!.data);
    assert.equal(t.byteSize(), (12 + 18 + 30) * 4);
  });
});

test('a truncated trace is named, before any tensor is read', () => {
  inDir((dir) => {
    const p = path.join(dir, 'cut.trace.safetensors');
    writeTrace(p, record());
    const full = fs.readFileSync(p);
    fs.writeFileSync(p, full.subarray(0, full.length - 10));
    rejects(p, /past the end of the data.*truncated/, { tensor: 'logits' });
    fs.writeFileSync(p, full.subarray(0, 20));
    rejects(p, /truncated/);
  });
});

test('a manifest that lies about its tensors is named with the tensor', () => {
  inDir((dir) => {
    rejects(lying(dir, (m) => (m.hooks as string[]).push('blocks.0.hook_resid_post')), /lists this hook but the file holds no such tensor/, { tensor: 'blocks.0.hook_resid_post' });
    rejects(lying(dir, (m) => (m.hooks = (m.hooks as string[]).slice(1))), /holds a tensor its manifest's hooks do not list/, { tensor: 'hook_embed' });
    rejects(lying(dir, (m) => (m.dtype = 'BF16')), /stored as F32 but the manifest says the trace is BF16/);
    rejects(lying(dir, (m) => (m.input = { ids: [[1, 2, 3, 4]] })), /axis 1 \(pos\) has length 3 but the manifest's input implies 4/, { tensor: 'hook_embed' });
    rejects(lying(dir, (m) => (m.input = { ids: [[1, 2, 3], [4, 5, 6]] })), /axis 0 \(batch\) has length 1 .* implies 2/);
    const renamed = tensors();
    renamed.set('blocks.0.attn.hook_wobble', renamed.get('hook_embed')!);
    renamed.delete('hook_embed');
    rejects(lying(dir, (m) => (m.hooks = [...renamed.keys()]), renamed), /not a hook name the inspector knows/, { tensor: 'blocks.0.attn.hook_wobble' });
    const flat = tensors();
    flat.set('hook_embed', new Tensor([3, 4]));
    rejects(lying(dir, () => {}, flat), /has shape \[3, 4\] but a hook_embed is \[batch, pos, d_model\]/);
  });
});

test('a bad manifest is named with its key', () => {
  inDir((dir) => {
    rejects(lying(dir, () => {}, tensors(), '{"format": '), /not valid JSON/, { key: MANIFEST_KEY });
    rejects(lying(dir, (m) => (m.version = 2)), /reads trace format version 1; the file has 2/, { key: `${MANIFEST_KEY}.version` });
    rejects(lying(dir, (m) => (m.format = 'something')), /format must be/, { key: `${MANIFEST_KEY}.format` });
    rejects(lying(dir, (m) => (m.input = { ids: [[1, 2], [3]] })), /every row as long/, { key: `${MANIFEST_KEY}.input.ids` });
    rejects(lying(dir, (m) => (m.input = { ids, tokens: [['a']] })), /one token string per input id/);
    rejects(lying(dir, (m) => (m.positions = [2, 1])), /positions must be increasing/);
    rejects(lying(dir, (m) => delete m.config), /config must be/);
  });
  rejects(path.resolve(__dirname, '..', 'fixtures', 'hf', 'llama', 'model.safetensors'), /not a trace: .*no "inspector_trace" manifest/);
});

test('a trace folder with a shard missing, or shards that disagree, is named', () => {
  inDir((dir) => {
    const src = path.join(TRACES, 'llama_offload.trace');
    const folder = path.join(dir, 'run.trace');
    fs.cpSync(src, folder, { recursive: true });
    const shards = fs.readdirSync(folder).sort();
    fs.rmSync(path.join(folder, shards[2]));
    rejects(folder, /has 4 shards but the folder holds 3 \(a shard missing\?\)/, { key: `${MANIFEST_KEY}.shard` });
    fs.copyFileSync(path.join(TRACES, 'llama.trace.safetensors'), path.join(folder, shards[2]));
    rejects(folder, /needs "shard"/);
  });
});

test('every fixture manifest has the keys the JSON Schema requires, and only keys it describes', () => {
  const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'schemas', 'trace-manifest.schema.json'), 'utf8')) as {
    required: string[];
    properties: Record<string, { enum?: string[]; const?: unknown }>;
  };
  const files = fs.readdirSync(TRACES).filter((f) => f.endsWith('.trace.safetensors') || f.endsWith('.trace'));
  assert.ok(files.length >= 8);
  for (const f of files) {
    const m = TraceFile.open(path.join(TRACES, f)).manifest as unknown as Record<string, unknown>;
    for (const k of schema.required) assert.ok(k in m, `${f}: ${k}`);
    for (const k of Object.keys(m)) assert.ok(k in schema.properties, `${f}: ${k} is not in the schema`);
    assert.equal(m.format, schema.properties.format.const);
    assert.ok(schema.properties.dtype.enum?.includes(m.dtype as string));
  }
});

test('what counts as a trace path: a *.trace.safetensors file, a *.trace folder, a folder of shards without a config', () => {
  inDir((dir) => {
    const model = path.join(dir, 'model');
    fs.mkdirSync(model);
    fs.writeFileSync(path.join(model, 'config.json'), '{}');
    writeTrace(path.join(model, 'run.trace.safetensors'), record());
    assert.equal(isTracePath(model), false, 'a model folder with a dump beside its config is a model');
    assert.equal(isTracePath(path.join(model, 'run.trace.safetensors')), true);
    const shards = path.join(dir, 'shards');
    fs.mkdirSync(shards);
    writeTrace(path.join(shards, 'a.trace.safetensors'), record());
    assert.equal(isTracePath(shards), true);
    fs.mkdirSync(path.join(dir, 'empty.trace'));
    assert.equal(isTracePath(path.join(dir, 'empty.trace')), true);
    rejects(path.join(dir, 'empty.trace'), /holds no \*\.safetensors shards/);
    assert.equal(isTracePath(path.join(dir, 'missing.json')), false);
  });
});
