import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InspectorError, isInspectorError } from '../errors';

/**
 * How the CLI ends. Exit codes (README "CLI"): 0 done; 1 a mistake in the config, weights or input
 * (one line naming the file, key or tensor); 2 a usage error (one line, and where to read the usage);
 * 70 an internal error (one line naming the step that failed; the stack goes to a log file).
 */
export const EXIT = { ok: 0, user: 1, usage: 2, internal: 70 } as const;

/** A mistake in the command line itself: an unknown option, a missing value, a malformed number. */
export class UsageError extends InspectorError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

let currentStep = 'starting';
let currentFile: string | undefined;

/** Name what the CLI is doing now (and with which file), for the line an internal error prints. */
export function step(name: string, file?: string): void {
  currentStep = name;
  currentFile = file;
}

function oneLine(s: string, max = 300): string {
  const line = s.replace(/\s*\n\s*/g, ' ');
  return line.length > max ? `${line.slice(0, max)}… (${line.length} characters)` : line;
}

/** Print what went wrong as one line (no stack trace) and return the exit code. */
export function report(e: unknown, command: string, err: (s: string) => void = (s) => process.stderr.write(s)): number {
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    const message = e instanceof Error ? e.message : String(e);
    err(`usage error: ${oneLine(message)} (see transformer-inspector ${command ? `${command} ` : ''}--help)\n`);
    return EXIT.usage;
  }
  if (isInspectorError(e)) {
    err(`error: ${oneLine(e.describe())}\n`);
    return EXIT.user;
  }
  const error = e instanceof Error ? e : new Error(String(e));
  if (error instanceof RangeError && /allocation failed|Invalid array length|Invalid typed array length/i.test(error.message)) {
    err(`error: out of memory while ${currentStep}${currentFile ? ` (${currentFile})` : ''}: ${oneLine(error.message)}; use a shorter input or a smaller model\n`);
    return EXIT.user;
  }
  const log = path.join(os.tmpdir(), `transformer-inspector-${process.pid}.log`);
  let where = `the stack is in ${log}`;
  try {
    fs.writeFileSync(log, `${new Date().toISOString()} ${command} while ${currentStep}${currentFile ? ` (${currentFile})` : ''}\n${error.stack ?? error.message}\n`);
  } catch {
    where = 'the stack could not be written to a log';
  }
  err(`internal error while ${currentStep}${currentFile ? ` (${currentFile})` : ''}: ${oneLine(error.message)} — please report; ${where}\n`);
  return EXIT.internal;
}
