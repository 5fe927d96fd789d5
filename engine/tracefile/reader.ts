import * as fs from 'node:fs';
import * as path from 'node:path';
import { InspectorError } from '../errors';
import { SafetensorsFile, type TensorInfo } from '../io/safetensors';
import type { Tensor } from '../tensor';
import { HOOK_DIMS, type Dim } from '../trace/hooks';
import { MANIFEST_KEY, TRACE_SUFFIX, parseManifest, type TraceManifest } from './manifest';

/**
 * A trace is a `*.trace.safetensors` file, or a folder of shards: one named `*.trace`, or one holding
 * `*.trace.safetensors` shards and no config (a model folder with a dump beside its config is a model).
 */
export function isTracePath(p: string): boolean {
  if (p.endsWith(TRACE_SUFFIX)) return true;
  try {
    if (!fs.statSync(p).isDirectory()) return false;
    if (p.replace(/[\\/]+$/, '').endsWith('.trace')) return true;
    const entries = fs.readdirSync(p);
    const config = entries.some((e) => e === 'config.json' || e.endsWith('.transformer.json'));
    return !config && entries.some((e) => e.endsWith(TRACE_SUFFIX));
  } catch {
    return false;
  }
}

/**
 * A recorded forward pass. Opening reads and checks only the headers and the manifest (so a 20 GB trace
 * opens at once); `read` reads one tensor by its byte range. The manifest is checked against the tensors:
 * a hook it lists that is not there, a tensor it does not list, a dtype or a shape that disagrees with
 * the manifest's input are named errors, as is a truncated file (by the safetensors header check).
 */
export class TraceFile {
  private readonly where = new Map<string, SafetensorsFile>();

  private constructor(
    readonly path: string,
    /** The manifest with `hooks` holding every hook of every shard, in forward order. */
    readonly manifest: TraceManifest,
    shards: readonly { file: SafetensorsFile; manifest: TraceManifest }[],
  ) {
    for (const s of shards) for (const h of s.manifest.hooks) this.where.set(h, s.file);
  }

  static open(p: string): TraceFile {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new InspectorError('no such trace file or folder', { file: p });
    }
    const files = st.isDirectory()
      ? fs.readdirSync(p).filter((e) => e.endsWith('.safetensors')).sort().map((e) => path.join(p, e))
      : [p];
    if (files.length === 0) throw new InspectorError('this trace folder holds no *.safetensors shards', { file: p });
    const shards = files.map((f) => {
      const file = SafetensorsFile.open(f);
      const manifest = parseManifest(file.metadata[MANIFEST_KEY], f);
      checkShard(file, manifest);
      return { file, manifest };
    });
    if (st.isDirectory()) orderShards(shards);
    const seen = new Map<string, string>();
    for (const s of shards) {
      for (const h of s.manifest.hooks) {
        const other = seen.get(h);
        if (other) throw new InspectorError(`hook recorded twice, also in ${path.basename(other)}`, { file: s.file.path, tensor: h });
        seen.set(h, s.file.path);
      }
    }
    const first = shards[0].manifest;
    const merged: TraceManifest = { ...first, hooks: shards.flatMap((s) => s.manifest.hooks) };
    delete merged.shard;
    return new TraceFile(p, merged, shards);
  }

  get hooks(): readonly string[] {
    return this.manifest.hooks;
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo | undefined {
    return this.where.get(name)?.info(name);
  }

  /** One recorded tensor, widened to fp32 (only its bytes are read). */
  read(name: string): Tensor {
    const f = this.where.get(name);
    if (!f) throw new InspectorError('this hook was not recorded in the trace', { file: this.path, tensor: name });
    return f.read(name);
  }

  /** Bytes of all recorded tensors (as stored). */
  byteSize(): number {
    let n = 0;
    for (const [name, f] of this.where) {
      const i = f.info(name)!;
      n += i.end - i.begin;
    }
    return n;
  }
}

/** Every listed hook is there, in the manifest's dtype, with the shape its input implies; nothing else is. */
function checkShard(file: SafetensorsFile, m: TraceManifest): void {
  const listed = new Set(m.hooks);
  for (const name of file.names()) {
    if (!listed.has(name)) throw new InspectorError("the file holds a tensor its manifest's hooks do not list", { file: file.path, tensor: name });
  }
  for (const name of m.hooks) {
    const at = { file: file.path, tensor: name };
    const info = file.info(name);
    if (!info) throw new InspectorError('the manifest lists this hook but the file holds no such tensor', at);
    if (info.dtype !== m.dtype) throw new InspectorError(`stored as ${info.dtype} but the manifest says the trace is ${m.dtype}`, at);
    const dims = declaredDims(name);
    if (!dims) throw new InspectorError('not a hook name the inspector knows (see HOOK_DIMS in engine/trace/hooks.ts)', at);
    if (dims.length !== info.shape.length) {
      throw new InspectorError(`has shape [${info.shape.join(', ')}] but a ${name.slice(name.lastIndexOf('.') + 1)} is [${dims.join(', ')}]`, at);
    }
    dims.forEach((d, axis) => {
      const want = expectedLength(d, name, m);
      if (want !== undefined && info.shape[axis] !== want) {
        throw new InspectorError(`axis ${axis} (${d}) has length ${info.shape[axis]} but the manifest's input implies ${want}`, at);
      }
    });
  }
}

function declaredDims(name: string): readonly Dim[] | undefined {
  const last = name.slice(name.lastIndexOf('.') + 1);
  return Object.hasOwn(HOOK_DIMS, last) ? HOOK_DIMS[last as keyof typeof HOOK_DIMS] : undefined;
}

/** The length an axis must have by the manifest's input (undefined: not fixed by the input). */
function expectedLength(d: Dim, name: string, m: TraceManifest): number | undefined {
  const seq2seq = m.input.decoder_ids !== undefined;
  const decoderSide = seq2seq && (name.startsWith('decoder.') || name === 'logits');
  const side = decoderSide ? m.input.decoder_ids! : m.input.ids;
  const T = side[0].length;
  const kept = m.positions && !decoderSide ? m.positions.length : T;
  switch (d) {
    case 'batch':
      return m.input.ids.length;
    case 'pos':
    case 'query_pos':
      // Cross-attention K/V run over the encoder positions.
      return decoderSide && /\.cross_attn\.hook_(k|v)$/.test(name) ? m.input.ids[0].length : kept;
    case 'key_pos':
      return decoderSide && name.includes('.cross_attn.') ? m.input.ids[0].length : T;
    default:
      return undefined;
  }
}

/** Shards carry {index, count}: all present, each once, agreeing on everything but their hooks. */
function orderShards(shards: { file: SafetensorsFile; manifest: TraceManifest }[]): void {
  const common = (m: TraceManifest) => JSON.stringify({ ...m, hooks: undefined, shard: undefined });
  const first = shards[0].manifest;
  for (const s of shards) {
    const at = { file: s.file.path, key: `${MANIFEST_KEY}.shard` };
    if (!s.manifest.shard) throw new InspectorError('a shard of a trace folder needs "shard": {"index", "count"}', at);
    if (s.manifest.shard.count !== shards.length) {
      throw new InspectorError(`the manifest says the trace has ${s.manifest.shard.count} shards but the folder holds ${shards.length} (a shard missing?)`, at);
    }
    if (common(s.manifest) !== common(first)) throw new InspectorError(`this shard's manifest disagrees with ${path.basename(shards[0].file.path)} (config, input, dtype or writer)`, at);
  }
  shards.sort((a, b) => a.manifest.shard!.index - b.manifest.shard!.index);
  shards.forEach((s, i) => {
    if (s.manifest.shard!.index !== i) throw new InspectorError(`two shards claim index ${s.manifest.shard!.index}`, { file: s.file.path, key: `${MANIFEST_KEY}.shard` });
  });
}
