import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { InspectorError } from '../errors';
import { exists, readTextGuarded } from './guarded';
import { checkJsonDepth } from '../config/json';
import { checkPatterns, MAX_TEXT_CHARS, timed, truncate } from './patterns';

/**
 * A Hugging Face `tokenizer.json` (BPE, WordPiece or Unigram), run by the maintained
 * `@huggingface/tokenizers` library: text → ids with their token strings, and ids → readable labels.
 */
export interface TextTokenizer {
  readonly file: string;
  encode(text: string): { ids: number[]; tokens: string[] };
  /** A readable label for one id (the decoded text, e.g. " the"; the token string if that is empty). */
  label(id: number): string;
  /** The text of a sequence of ids (special tokens kept). */
  decode(ids: number[]): string;
}

/** The tokenizer beside a config, or undefined when there is none. Both files are guarded reads. */
export function loadTokenizer(configPath: string): TextTokenizer | undefined {
  const dir = path.dirname(configPath);
  const file = path.join(dir, 'tokenizer.json');
  if (!exists(file)) return undefined;
  const parse = (f: string, kind: 'tokenizer' | 'tokenizerConfig') => {
    const text = readTextGuarded(f, kind);
    checkJsonDepth(text, f);
    try {
      return JSON.parse(text) as object;
    } catch (e) {
      throw new InspectorError(`cannot read ${kind === 'tokenizer' ? 'tokenizer' : 'tokenizer config'}: ${(e as Error).message}`, { file: f });
    }
  };
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const json = parse(file, 'tokenizer');
  const cfg = exists(cfgFile) ? parse(cfgFile, 'tokenizerConfig') : {};
  checkPatterns(json, file);
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, cfg);
  } catch (e) {
    throw new InspectorError(`unsupported or malformed tokenizer: ${truncate((e as Error).message)}`, { file });
  }
  return textTokenizer(tok, file);
}

/**
 * A built tokenizer as the engine uses it, whatever it was read from (tokenizer.json, or the metadata of
 * a GGUF file): time-limited encode and decode, length-capped input, readable labels.
 */
export function textTokenizer(tok: Tokenizer, file: string): TextTokenizer {
  const encodeTimed = (text: string) => {
    if (text.length > MAX_TEXT_CHARS) throw new InspectorError(`the input text is ${text.length} characters: at most ${MAX_TEXT_CHARS} are tokenized`, { file });
    return timed(() => tok.encode(text), file);
  };
  return {
    file,
    encode(text: string) {
      const enc = encodeTimed(text);
      return { ids: enc.ids, tokens: enc.tokens };
    },
    label(id: number) {
      const text = timed(() => tok.decode([id], { skip_special_tokens: false }), file);
      if (text.length === 0) return tok.id_to_token(id) ?? String(id);
      // A token that is part of a multi-byte character decodes to U+FFFD alone: show its bytes.
      return text.includes('\ufffd') ? (byteLabel(tok.id_to_token(id)) ?? text) : text;
    },
    decode(ids: number[]) {
      return timed(() => tok.decode(ids, { skip_special_tokens: false }), file);
    },
  };
}

/** GPT-2's byte-level alphabet: the printable character standing for each byte, inverted. */
let byteOfChar: Map<string, number> | undefined;
function byteLevelBytes(token: string): number[] | undefined {
  if (!byteOfChar) {
    byteOfChar = new Map();
    const direct = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    let extra = 0;
    for (let b = 0; b < 256; b++) byteOfChar.set(String.fromCharCode(direct(b) ? b : 256 + extra++), b);
  }
  const bytes: number[] = [];
  for (const c of token) {
    const b = byteOfChar.get(c);
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  return bytes;
}

/**
 * A partial-character token's bytes, visibly: `<0xE2>` (SentencePiece byte fallback) or a byte-level
 * BPE token ("Ã" = 0xC3) as `\xE2`-style escapes, printable ASCII kept. Undefined if it is neither.
 */
export function byteLabel(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
  if (fallback) return `\\x${fallback[1].toUpperCase()}`;
  const bytes = byteLevelBytes(token);
  if (!bytes) return undefined;
  return bytes
    .map((b) =>
      b >= 32 && b < 127 ? String.fromCharCode(b) : `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}
