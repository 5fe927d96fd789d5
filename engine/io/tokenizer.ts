import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { InspectorError } from '../errors';

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

/** The tokenizer beside a config, or undefined when there is none. */
export function loadTokenizer(configPath: string): TextTokenizer | undefined {
  const dir = path.dirname(configPath);
  const file = path.join(dir, 'tokenizer.json');
  if (!fs.existsSync(file)) return undefined;
  const parse = (f: string) => {
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8')) as object;
    } catch (e) {
      throw new InspectorError(`cannot read tokenizer: ${(e as Error).message}`, { file: f });
    }
  };
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(parse(file), fs.existsSync(cfgFile) ? parse(cfgFile) : {});
  } catch (e) {
    throw new InspectorError(`unsupported or malformed tokenizer: ${(e as Error).message}`, { file });
  }
  return {
    file,
    encode(text: string) {
      const enc = tok.encode(text);
      return { ids: enc.ids, tokens: enc.tokens };
    },
    label(id: number) {
      const text = tok.decode([id], { skip_special_tokens: false });
      return text.length > 0 ? text : (tok.id_to_token(id) ?? String(id));
    },
    decode(ids: number[]) {
      return tok.decode(ids, { skip_special_tokens: false });
    },
  };
}
