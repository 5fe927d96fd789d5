import * as fs from 'node:fs';
import type { Tensor } from '../tensor';
import { encodeSafetensors } from '../io/safetensors';
import { MANIFEST_KEY, TRACE_FORMAT, TRACE_VERSION, type TraceInput, type TraceManifest } from './manifest';

/** What the engine knows about a run it writes as a trace. */
export interface TraceRecord {
  writer: TraceManifest['writer'];
  configFormat: TraceManifest['config_format'];
  config: Record<string, unknown>;
  input: TraceInput;
  /** Hook name → tensor, in forward order (logits included under `logits`). */
  tensors: ReadonlyMap<string, Tensor>;
}

/** The manifest of a single-file F32 trace of these tensors. */
export function traceManifest(r: TraceRecord): TraceManifest {
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    writer: r.writer,
    config_format: r.configFormat,
    config: r.config,
    input: r.input,
    dtype: 'F32',
    hooks: [...r.tensors.keys()],
  };
}

/** A trace as one safetensors file: the tensors under their hook names, the manifest in `__metadata__`. */
export function encodeTrace(r: TraceRecord): Buffer {
  return encodeSafetensors(r.tensors, { [MANIFEST_KEY]: JSON.stringify(traceManifest(r)) });
}

export function writeTrace(file: string, r: TraceRecord): void {
  fs.writeFileSync(file, encodeTrace(r));
}
