import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { InspectorError } from '../errors';
import { readTextGuarded, type FileKind } from '../io/guarded';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** No config, index or tokenizer nests deeper than this; the parsers recurse, so deeper is refused first. */
export const MAX_JSON_DEPTH = 256;

/** The offset where `text` first nests deeper than `max` arrays/objects (strings skipped), or -1. Linear. */
export function depthExceededAt(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++;
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) {
      if (++depth > max) return i;
    } else if (ch === 93 || ch === 125) depth--;
  }
  return -1;
}

/** Refuse JSON nested deeper than MAX_JSON_DEPTH (a named error, not a stack overflow). */
export function checkJsonDepth(text: string, file?: string): void {
  const at = depthExceededAt(text);
  if (at >= 0) {
    const { line, column } = lineColumn(text, at);
    throw new InspectorError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels (at line ${line}, column ${column}): not a model config`, { file });
  }
}

/** Read (guarded: regular file, size cap of its kind) and parse a JSON file; every failure names the file. */
export function loadJsonFile(file: string, kind: FileKind): JsonValue {
  return parseJsonText(readTextGuarded(file, kind), file);
}

/** Parse a config file's text; a syntax error names the file, line and column. Deep nesting is refused. */
export function parseJsonText(text: string, file?: string): JsonValue {
  checkJsonDepth(text, file);
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: false, disallowComments: false }) as JsonValue;
  if (errors.length > 0) {
    const e = errors[0];
    const { line, column } = lineColumn(text, e.offset);
    throw new InspectorError(`malformed JSON at line ${line}, column ${column}: ${printParseErrorCode(e.error)}`, { file });
  }
  return value;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

export function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Typed, range-checked reads of config keys; every failure names the key. */
export class ConfigReader {
  constructor(
    readonly obj: JsonObject,
    readonly file?: string,
  ) {}

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  fail(key: string, message: string): never {
    throw new InspectorError(message, { file: this.file, key });
  }

  int(key: string, opts: { min?: number; max?: number; default?: number } = {}): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (opts.default !== undefined) return opts.default;
      this.fail(key, `'${key}' is required (an integer)`);
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.fail(key, `'${key}' must be an integer, got ${describeValue(v)}`);
    }
    if (!Number.isSafeInteger(v)) this.fail(key, `'${key}' = ${v} is too large to be exact`);
    const min = opts.min ?? 1;
    if (v < min) this.fail(key, `'${key}' must be ≥ ${min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) this.fail(key, `'${key}' must be ≤ ${opts.max}, got ${v}`);
    return v;
  }

  optionalInt(key: string, opts: { min?: number; max?: number } = {}): number | undefined {
    return this.has(key) ? this.int(key, opts) : undefined;
  }

  number(key: string, opts: { min?: number; max?: number; default?: number; exclusiveMin?: boolean } = {}): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (opts.default !== undefined) return opts.default;
      this.fail(key, `'${key}' is required (a number)`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `'${key}' must be a number, got ${describeValue(v)}`);
    if (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min)) {
      this.fail(key, `'${key}' must be ${opts.exclusiveMin ? '>' : '≥'} ${opts.min}, got ${v}`);
    }
    if (opts.max !== undefined && v > opts.max) this.fail(key, `'${key}' must be ≤ ${opts.max}, got ${v}`);
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') this.fail(key, `'${key}' must be true or false, got ${describeValue(v)}`);
    return v;
  }

  string(key: string, def?: string): string {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (def !== undefined) return def;
      this.fail(key, `'${key}' is required (a string)`);
    }
    if (typeof v !== 'string') this.fail(key, `'${key}' must be a string, got ${describeValue(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], def: T): T {
    const v = this.string(key, def);
    if (!(allowed as readonly string[]).includes(v)) {
      this.fail(key, `'${key}' must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got "${v}"`);
    }
    return v as T;
  }
}

export function describeValue(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  return `${typeof v} ${String(v)}`;
}
