import { InspectorError } from '../errors';
import { GgufFile, type GgufValue } from '../io/gguf';

export const GGUF_USAGE = `usage: transformer-inspector gguf FILE.gguf [--json] [--tensors]
  A GGUF's metadata (arrays summarised by length and first items), its tensors by ggml type with their
  bytes and parameter counts, and with --tensors every tensor's name, type and shape.`;

/** A metadata value as readable text: long arrays summarised. */
export function describeValue(v: GgufValue, max = 8): string {
  if (Array.isArray(v)) {
    const head = v.slice(0, max).map((x) => describeValue(x, 3));
    return `[${v.length} items${v.length ? `: ${head.join(', ')}${v.length > max ? ', …' : ''}` : ''}]`;
  }
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  return String(v);
}

export interface GgufSummary {
  file: string;
  version: number;
  metadata: Record<string, string>;
  types: Record<string, { tensors: number; parameters: number; bytes: number }>;
  parameters: number;
  tensor_bytes: number;
  tensors?: { name: string; type: string; shape: number[] }[];
}

export function summarizeGguf(g: GgufFile, withTensors: boolean): GgufSummary {
  const metadata: Record<string, string> = {};
  for (const [k, v] of g.metadata) metadata[k] = describeValue(v);
  const types: GgufSummary['types'] = {};
  let parameters = 0;
  let bytes = 0;
  for (const t of g.tensors.values()) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const e = (types[t.type] ??= { tensors: 0, parameters: 0, bytes: 0 });
    e.tensors++;
    e.parameters += n;
    e.bytes += t.end - t.begin;
    parameters += n;
    bytes += t.end - t.begin;
  }
  const s: GgufSummary = { file: g.path, version: g.version, metadata, types, parameters, tensor_bytes: bytes };
  if (withTensors) s.tensors = [...g.tensors.values()].map((t) => ({ name: t.name, type: t.type, shape: t.shape }));
  return s;
}

export function runGguf(argv: string[], out: (s: string) => void = console.log): number {
  const files = argv.filter((a) => !a.startsWith('--'));
  const unknown = argv.filter((a) => a.startsWith('--') && a !== '--json' && a !== '--tensors');
  if (unknown.length) throw new InspectorError(`unknown option ${unknown[0]}\n${GGUF_USAGE}`);
  if (files.length !== 1) throw new InspectorError(`gguf takes one FILE\n${GGUF_USAGE}`);
  const s = summarizeGguf(GgufFile.open(files[0]), argv.includes('--tensors'));
  if (argv.includes('--json')) {
    out(JSON.stringify(s, null, 1));
    return 0;
  }
  out(`file        ${s.file} (GGUF v${s.version})`);
  out(`parameters  ${s.parameters.toLocaleString('en-US')} in ${Object.values(s.types).reduce((n, t) => n + t.tensors, 0)} tensors, ${s.tensor_bytes.toLocaleString('en-US')} bytes`);
  for (const [type, t] of Object.entries(s.types)) {
    out(`  ${type.padEnd(5)} ${String(t.tensors).padStart(4)} tensors ${t.parameters.toLocaleString('en-US').padStart(14)} parameters ${t.bytes.toLocaleString('en-US').padStart(14)} bytes (${((8 * t.bytes) / t.parameters).toFixed(2)} bits/weight)`);
  }
  out('');
  out('metadata');
  const width = Math.max(...Object.keys(s.metadata).map((k) => k.length));
  for (const [k, v] of Object.entries(s.metadata)) out(`  ${k.padEnd(width)}  ${v}`);
  if (s.tensors) {
    out('');
    out('tensors');
    for (const t of s.tensors) out(`  ${t.name}  ${t.type}  [${t.shape.join(', ')}]`);
  }
  return 0;
}
