import { InspectorError } from '../errors';

/**
 * Bounds on running a tokenizer file's regular expressions, which JavaScript cannot interrupt:
 * patterns with nested unbounded quantifiers (`(a+)+$`, the classic catastrophic backtracking) are
 * refused when the tokenizer is read; text is capped in length; and in the engine process a watchdog
 * (see `watchTokenizer`) ends a tokenization that runs past TOKENIZE_TIME_LIMIT_MS.
 */

/** Characters of input text tokenized at most (far beyond any context window the inspector runs). */
export const MAX_TEXT_CHARS = 1_000_000;

/** How long one tokenization may take before it is refused (the engine process enforces it). */
export const TOKENIZE_TIME_LIMIT_MS = 5000;

/** The limit in force: TI_TOKENIZE_LIMIT_MS (for tests) or TOKENIZE_TIME_LIMIT_MS. */
export function tokenizeLimitMs(): number {
  const v = Number(process.env.TI_TOKENIZE_LIMIT_MS);
  return Number.isFinite(v) && v > 0 ? v : TOKENIZE_TIME_LIMIT_MS;
}

/** At most `max` characters of a value echoed back to the user. */
export function truncate(s: string, max = 200): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
}

/** Every `{"Regex": "…"}` pattern in a tokenizer.json (pre-tokenizers, normalizers, decoders). */
export function regexPatterns(json: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'Regex' && typeof x === 'string') out.push(x);
        else if (typeof x === 'object') walk(x);
      }
    }
  };
  walk(json);
  return out;
}

/**
 * Whether a pattern repeats a group that itself holds an unbounded quantifier (`(a+)+`, `(\w*)*`,
 * `(?:x+y?)+`): the shape whose backtracking grows exponentially with the text. A syntactic check.
 */
export function hasNestedQuantifier(re: string): boolean {
  // A stack of open groups: does each (so far) hold an unbounded quantifier?
  const stack: boolean[] = [false];
  let lastClosedHeld = false;
  let lastWasGroup = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      i++;
      lastWasGroup = false;
      continue;
    }
    if (c === '[') {
      for (i++; i < re.length && re[i] !== ']'; i++) if (re[i] === '\\') i++;
      lastWasGroup = false;
      continue;
    }
    if (c === '(') {
      stack.push(false);
      lastWasGroup = false;
      continue;
    }
    if (c === ')') {
      lastClosedHeld = stack.pop() ?? false;
      if (stack.length === 0) stack.push(false);
      lastWasGroup = true;
      continue;
    }
    const unbounded = c === '+' || c === '*' || (c === '{' && /^\{\d*,\}/.test(re.slice(i)));
    if (unbounded) {
      if (lastWasGroup && lastClosedHeld) return true;
      stack[stack.length - 1] = true;
    }
    // A group that held a quantifier makes its parent hold one too.
    if (c !== '?' && lastWasGroup && lastClosedHeld) stack[stack.length - 1] = true;
    lastWasGroup = false;
  }
  return false;
}

/** Refuse a tokenizer whose patterns backtrack catastrophically, naming the pattern. */
export function checkPatterns(json: unknown, file: string): void {
  for (const p of regexPatterns(json)) {
    if (p.length > 10_000) throw new InspectorError(`a tokenizer pattern is ${p.length} characters long: at most 10000`, { file });
    if (hasNestedQuantifier(p)) {
      throw new InspectorError(
        `the tokenizer pattern /${truncate(p, 80)}/ repeats a group that itself repeats (like (a+)+): it can take exponential time, so it is not run`,
        { file },
      );
    }
  }
}

/** Called around every tokenization (the engine process's session thread registers a watchdog). */
export interface TokenizerWatch {
  start(limitMs: number, file: string): void;
  end(): void;
}

let watch: TokenizerWatch | undefined;

export function watchTokenizer(w: TokenizerWatch | undefined): void {
  watch = w;
}

/** Run `f` (a tokenization) under the watchdog, then refuse it if it still took too long. */
export function timed<T>(f: () => T, file: string): T {
  const t0 = Date.now();
  const limit = tokenizeLimitMs();
  watch?.start(limit, file);
  let out: T;
  try {
    out = f();
  } catch (e) {
    if (e instanceof InspectorError) throw e;
    throw new InspectorError(`the tokenizer failed on this text: ${truncate(e instanceof Error ? e.message : String(e))}`, { file });
  } finally {
    watch?.end();
  }
  const ms = Date.now() - t0;
  if (ms > limit) {
    throw new InspectorError(`tokenizing took ${ms} ms (limit ${limit} ms): the tokenizer's patterns are too slow for this text`, { file });
  }
  return out;
}
