import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fillUniform } from '../model/rng';

/**
 * onnxruntime-node's GFLOP/s on one MatMul, for `bench` to print beside the engine's: the same shape, a
 * constant weight (so its MLAS packs it once, as the engine packs panels), the same thread count.
 * onnxruntime-node is not a dependency of the project: it is looked for where ../shared/perf/setup.sh
 * installs it (PERF_DIR, default /tmp/ti-perf), then from the working directory. Absent → undefined.
 */

interface OrtTensor {
  data: Float32Array;
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
}

/** onnxruntime-node from PERF_DIR, /tmp/ti-perf or the working directory, with its version; undefined if none. */
export function findOnnxruntime(): { ort: Ort; version: string; from: string } | undefined {
  const dirs = [process.env.PERF_DIR, '/tmp/ti-perf', process.cwd()].filter((d): d is string => !!d);
  for (const dir of dirs) {
    const pkg = path.join(dir, 'node_modules', 'onnxruntime-node', 'package.json');
    if (!fs.existsSync(pkg)) continue;
    try {
      const req = createRequire(path.join(dir, 'package.json'));
      const ort = req('onnxruntime-node') as Ort;
      const version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
      return { ort, version, from: dir };
    } catch {
      // a broken install (e.g. its native binary missing): try the next place
    }
  }
  return undefined;
}

// ---- a minimal protobuf writer for one ONNX graph: C[M, N] = A[M, K] · B[K, N], B an initializer ----

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, v: number) => [...key(field, 0), ...varint(v)];
function bytes(field: number, b: ArrayLike<number>): number[] {
  return [...key(field, 2), ...varint(b.length), ...Array.from(b)];
}
const str = (field: number, s: string) => bytes(field, Buffer.from(s, 'utf8'));

/** ValueInfoProto: a float tensor of fixed dims. */
function valueInfo(name: string, dims: number[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, int(1, d)));
  const tensorType = [...int(1, 1), ...bytes(2, shape)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

/** The ONNX model bytes of one MatMul with a constant right-hand side `b` [K, N]. */
export function matmulModel(b: Float32Array, M: number, N: number, K: number): Uint8Array {
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'C'), ...str(3, 'mm'), ...str(4, 'MatMul')];
  const raw = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const init = [...int(1, K), ...int(1, N), ...int(2, 1), ...str(8, 'B')];
  const head = [...init, ...key(9, 2), ...varint(raw.length)]; // raw_data: the floats, little-endian
  const initializer = new Uint8Array(head.length + raw.length);
  initializer.set(head);
  initializer.set(raw, head.length);
  const graphHead = [...bytes(1, node), ...str(2, 'matmul'), ...key(5, 2), ...varint(initializer.length)];
  const graphTail = [...bytes(11, valueInfo('A', [M, K])), ...bytes(12, valueInfo('C', [M, N]))];
  const graphLen = graphHead.length + initializer.length + graphTail.length;
  const modelHead = [...int(1, 8), ...bytes(8, [...str(1, ''), ...int(2, 13)]), ...key(7, 2), ...varint(graphLen)];
  const model = new Uint8Array(modelHead.length + graphLen);
  let at = 0;
  for (const part of [modelHead, graphHead, initializer, graphTail]) {
    model.set(part, at);
    at += part.length;
  }
  return model;
}

export interface OrtMatmulResult {
  version: string;
  ms: number;
  gflops: number;
  /** GFLOP/s per CPU-second of this process (all of onnxruntime's threads). */
  gflopsCpu: number;
  /** max |onnxruntime − expected| over the output, expected given by the caller (a sanity check). */
  maxDiff: number;
}

/**
 * Time onnxruntime-node's MatMul of a [M, K] by a constant [K, N] on `threads` threads for `ms` of
 * wall time after two warm-up runs; `expected` (x · b) checks it computed the product.
 */
export async function ortMatmul(found: NonNullable<ReturnType<typeof findOnnxruntime>>, M: number, N: number, K: number, threads: number, ms: number): Promise<OrtMatmulResult> {
  const { ort, version } = found;
  const a = fillUniform(new Float32Array(M * K), 1, 1);
  const b = fillUniform(new Float32Array(K * N), 1, 2);
  const session = await ort.InferenceSession.create(matmulModel(b, M, N, K), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = { A: new ort.Tensor('float32', a, [M, K]) };
  const first = (await session.run(feeds)).C.data;
  let maxDiff = 0;
  for (const i of [0, M * N - 1, (M >> 1) * N + (N >> 1)]) {
    const r = Math.floor(i / N);
    const c = i % N;
    let s = 0;
    for (let k = 0; k < K; k++) s += a[r * K + k] * b[k * N + c];
    maxDiff = Math.max(maxDiff, Math.abs(first[i] - s));
  }
  await session.run(feeds);
  let reps = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  do {
    await session.run(feeds);
    reps++;
  } while (performance.now() - t0 < ms);
  const per = (performance.now() - t0) / reps;
  const c = process.cpuUsage(c0);
  const cpuPer = (c.user + c.system) / 1000 / reps;
  await session.release?.();
  const flops = 2 * M * N * K;
  return { version, ms: per, gflops: flops / per / 1e6, gflopsCpu: flops / cpuPer / 1e6, maxDiff };
}
