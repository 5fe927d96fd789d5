import { parseArgs } from 'node:util';
import { InspectorError } from '../errors';
import { TraceFile } from '../tracefile/reader';
import { compareTraces } from '../tracefile/compare';
import { formatBytes } from '../model/streaming';

export const TRACE_USAGE = `usage: transformer-inspector trace TRACE [OTHER] [--rtol 1e-5]
  TRACE is a *.trace.safetensors file or a trace folder (docs/trace-format.md).
  With one trace: its manifest and hooks. With two: every hook side by side (max |a − b| / max |a|),
  exit 1 when a hook both hold differs by more than --rtol.`;

/** `trace`: describe a trace, or compare two (a local run and a cluster run, hook by hook). */
export function runTrace(argv: string[], out: (s: string) => void = console.log): number {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { rtol: { type: 'string' } } });
  if (positionals.length < 1 || positionals.length > 2) throw new InspectorError(`trace takes one or two traces\n${TRACE_USAGE}`);
  const rtol = values.rtol === undefined ? 1e-5 : Number(values.rtol);
  if (!(rtol >= 0)) throw new InspectorError(`--rtol: "${values.rtol}" is not a non-negative number`);
  const a = TraceFile.open(positionals[0]);
  const m = a.manifest;
  out(`trace     ${positionals[0]}`);
  out(`writer    ${m.writer.tool}${m.writer.library ? ` (${m.writer.library})` : ''}`);
  out(`model     ${String(m.config.model_type ?? m.config_format)}; input ${m.input.ids.length} × ${m.input.ids[0].length} tokens${m.input.tokens ? `: ${m.input.tokens[0].join(' ')}` : ''}`);
  out(`hooks     ${a.hooks.length} (${m.dtype}, ${formatBytes(a.byteSize())})`);
  if (positionals.length === 1) {
    for (const h of a.hooks) out(`  ${h.padEnd(36)} [${a.info(h)!.shape.join(', ')}]`);
    return 0;
  }
  const b = TraceFile.open(positionals[1]);
  out(`against   ${positionals[1]} (${b.manifest.writer.tool}), ${b.hooks.length} hooks`);
  if (JSON.stringify(m.input.ids) !== JSON.stringify(b.manifest.input.ids)) out('note      the two traces ran on different input ids');
  out('');
  let failed = 0;
  for (const r of compareTraces(a, b)) {
    const shape = r.shape ? `[${r.shape.join(', ')}]` : '';
    if (r.status !== 'compared') {
      out(`  ${r.hook.padEnd(36)} ${shape.padEnd(16)} ${r.status}`);
      if (r.status === 'shapes differ') failed++;
      continue;
    }
    const bad = (r.maxRel as number) > rtol;
    if (bad) failed++;
    out(`  ${r.hook.padEnd(36)} ${shape.padEnd(16)} max |Δ| ${(r.maxAbs as number).toExponential(2)}  rel ${(r.maxRel as number).toExponential(2)}${bad ? '  DIFFERS' : ''}`);
  }
  out('');
  out(failed ? `${failed} hooks differ by more than ${rtol}` : `every hook both traces hold agrees within ${rtol}`);
  return failed ? 1 : 0;
}
