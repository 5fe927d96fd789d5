import { depthExceededAt, MAX_JSON_DEPTH } from '../../engine/config/json';
import { FILE_LIMITS } from '../../engine/io/guarded';
import { findNodeAtLocation, getLocation, parseTree, printParseErrorCode, parse, type JSONPath, type Node, type ParseError } from 'jsonc-parser';

/**
 * Finding keys in config text with jsonc-parser: the key under the cursor (for hovers), the range of
 * a key named by an InspectorError (`num_heads`, `masks[0].window`) for diagnostics, and syntax
 * errors with their offsets. Pure: offsets in, offsets out.
 */

/** Text jsonc-parser can walk without overflowing the stack (it recurses) or stalling the host. */
function walkable(text: string): boolean {
  return text.length <= FILE_LIMITS.config && depthExceededAt(text) < 0;
}

export interface Span {
  offset: number;
  length: number;
}

/** The top-level key whose property (key or value) holds `offset`, with the key's span. */
export function keyAtOffset(text: string, offset: number): { key: string; path: JSONPath; span: Span } | undefined {
  if (!walkable(text)) return undefined;
  const loc = getLocation(text, offset);
  const top = loc.path[0];
  if (typeof top !== 'string' || top === '') return undefined;
  const root = parseTree(text);
  const span = root && keySpan(root, [top]);
  if (!span) return undefined;
  return { key: top, path: loc.path, span };
}

/** `masks[0].window` → ['masks', 0, 'window']. */
export function parseKeyPath(key: string): JSONPath {
  const path: JSONPath = [];
  for (const m of key.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) path.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return path;
}

/**
 * The span to underline for a key path: the property's key, or for an array element the element;
 * if the path does not exist (a missing required key), its nearest existing ancestor's key;
 * undefined when not even the first segment exists.
 */
export function spanOfKey(text: string, key: string): Span | undefined {
  if (!walkable(text)) return undefined;
  const root = parseTree(text);
  if (!root) return undefined;
  const path = parseKeyPath(key);
  for (let n = path.length; n > 0; n--) {
    const span = keySpan(root, path.slice(0, n));
    if (span) return span;
  }
  return undefined;
}

/** Syntax errors with their offsets and jsonc-parser's names for them. */
export function syntaxErrors(text: string): { span: Span; message: string }[] {
  if (text.length > FILE_LIMITS.config) {
    return [{ span: { offset: 0, length: 1 }, message: `${text.length} characters is too large for a config (at most ${FILE_LIMITS.config} bytes)` }];
  }
  const deep = depthExceededAt(text);
  if (deep >= 0) return [{ span: { offset: deep, length: 1 }, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels: not a model config` }];
  const errors: ParseError[] = [];
  parse(text, errors, { allowTrailingComma: false, disallowComments: false });
  return errors.map((e) => ({ span: { offset: e.offset, length: Math.max(1, e.length) }, message: `malformed JSON: ${describeParseError(printParseErrorCode(e.error))}` }));
}

function keySpan(root: Node, path: JSONPath): Span | undefined {
  const node = findNodeAtLocation(root, path);
  if (!node) return undefined;
  const prop = node.parent;
  if (prop?.type === 'property' && prop.children?.[0]) return { offset: prop.children[0].offset, length: prop.children[0].length };
  return { offset: node.offset, length: node.length };
}

function describeParseError(code: string): string {
  // 'CommaExpected' → 'comma expected'
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
