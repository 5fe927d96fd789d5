import { isInspectorError } from '../errors';
import { findConfig } from '../model/load';
import { analyzeFile, KV_DTYPES } from '../analysis';
import { analysisToJson, stringifyExact } from '../analysis/report';
import { renderTable } from '../analysis/table';

/**
 * `transformer-inspector params PATH [--json] [--dtype bf16] [--context N] [--batch B]`
 *
 * `argv` is what follows the `params` sub-command. PATH is a config file (`*.transformer.json` or a
 * Hugging Face config.json) or a folder holding one. Returns the exit code: 0, 1 for an error in the
 * input (reported with its place), 2 for a usage error.
 */

export const PARAMS_USAGE = `usage: transformer-inspector params PATH [--json] [--dtype ${KV_DTYPES.join('|')}] [--context N] [--batch B]

Exact parameter counts, weight memory, KV cache and FLOPs of a model from its config alone.
  PATH          a *.transformer.json, a config.json, or a folder holding one
  --json        one JSON object (integers exact) instead of tables
  --dtype T     KV cache element type (default bf16)
  --context N   context length for the KV cache and FLOPs (default: the model's maximum)
  --batch B     sequences in the KV cache (default 1)`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export async function runParams(argv: string[], io: Io = processIo): Promise<number> {
  let path: string | undefined;
  let json = false;
  let dtype = 'bf16';
  let context: bigint | undefined;
  let batch: bigint | undefined;
  const usage = (msg: string): number => {
    io.err(`error: ${msg}\n${PARAMS_USAGE}\n`);
    return 2;
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++k];
    switch (flag) {
      case '--help':
      case '-h':
        io.out(PARAMS_USAGE + '\n');
        return 0;
      case '--json':
        json = true;
        break;
      case '--dtype': {
        const v = value();
        if (v === undefined || !(KV_DTYPES as readonly string[]).includes(v))
          return usage(`--dtype takes one of ${KV_DTYPES.join(', ')}`);
        dtype = v;
        break;
      }
      case '--context':
      case '--batch': {
        const v = value();
        if (v === undefined || !/^[1-9][0-9]{0,30}$/.test(v))
          return usage(`${flag} takes a positive integer, got ${v === undefined ? 'nothing' : `"${v}"`}`);
        if (flag === '--context') context = BigInt(v);
        else batch = BigInt(v);
        break;
      }
      default:
        if (a.startsWith('-')) return usage(`unknown option ${a}`);
        if (path !== undefined) return usage(`one PATH only (got "${path}" and "${a}")`);
        path = a;
    }
  }
  if (path === undefined) return usage('PATH is required');
  try {
    const analysis = analyzeFile(findConfig(path), { dtype, context, batch });
    io.out(json ? stringifyExact(analysisToJson(analysis)) + '\n' : renderTable(analysis));
    return 0;
  } catch (e) {
    if (isInspectorError(e)) {
      io.err(`error: ${e.describe()}\n`);
      return 1;
    }
    throw e;
  }
}
