import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, encodeTensorJson, npyHeader } from '../../engine/worker/export';

// The .npy v1.0 layout (numpy.lib.format): b'\x93NUMPY', 0x01 0x00, uint16 LE header length,
// an ASCII dict literal padded with spaces and ending in '\n', total preamble a multiple of 64.

test('npy header: magic, version 1.0, little-endian length, dict, 64-byte alignment', () => {
  const data = Float32Array.from([1, -2.5, 3, 4, 5, 6]);
  const bytes = encodeNpy([2, 3], data);
  assert.deepEqual([...bytes.subarray(0, 6)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
  assert.equal(bytes[6], 1);
  assert.equal(bytes[7], 0);
  const headerLen = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + headerLen) % 64, 0);
  const header = Buffer.from(bytes.subarray(10, 10 + headerLen)).toString('latin1');
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
  assert.equal(bytes.length, 10 + headerLen + 6 * 4);
  const body = new DataView(bytes.buffer, 10 + headerLen);
  assert.equal(body.getFloat32(4, true), -2.5);
  assert.equal(body.getFloat32(20, true), 6);
});

test('npy shape tuples: 1-d has a trailing comma, 0-d is ()', () => {
  assert.match(npyHeader([5]), /'shape': \(5,\), /);
  assert.match(npyHeader([]), /'shape': \(\), /);
  assert.match(npyHeader([1, 4, 8, 8]), /'shape': \(1, 4, 8, 8\), /);
  for (const shape of [[], [5], [2, 3], [1, 12, 1024, 1024]]) assert.equal((10 + npyHeader(shape).length) % 64, 0);
  assert.throws(() => encodeNpy([2, 2], new Float32Array(3)), /needs 4 values/);
});

test('NumPy reads the file back (when python3 with numpy is available)', (t) => {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('python3 with numpy is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'npy-'));
  try {
    const file = join(dir, 't.npy');
    writeFileSync(file, encodeNpy([2, 3, 2], Float32Array.from({ length: 12 }, (_, i) => i / 4 - 1)));
    const r = spawnSync('python3', ['-c', `import numpy as np; a = np.load(${JSON.stringify(file)}); print(a.dtype, a.shape, a.flags['C_CONTIGUOUS'], a[1, 2, 1])`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'float32 (2, 3, 2) True 1.75');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JSON export: name, dims, shape and flat values; non-finite values as strings', () => {
  const bytes = encodeTensorJson('blocks.0.hook_resid_pre', ['batch', 'pos', 'd_model'], [1, 1, 3], Float32Array.from([0.5, NaN, -Infinity]));
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { name: string; shape: number[]; data: unknown[]; dtype: string };
  assert.equal(parsed.name, 'blocks.0.hook_resid_pre');
  assert.deepEqual(parsed.shape, [1, 1, 3]);
  assert.equal(parsed.dtype, 'float32');
  assert.deepEqual(parsed.data, [0.5, 'NaN', '-Infinity']);
});
