import { Tokenizer } from '@huggingface/tokenizers';
import { InspectorError } from '../errors';
import type { GgufFile } from './gguf';
import { textTokenizer, type TextTokenizer } from './tokenizer';

/**
 * The tokenizer a GGUF carries in its metadata, as a Hugging Face tokenizer.json run by the same library
 * as tokenizer.json files. `tokenizer.ggml.model = gpt2` (byte-level BPE: tokens, merges, token types —
 * what convert_hf_to_gguf.py writes for GPT-2, Llama 3, Qwen2 …) is supported; SentencePiece (`llama`)
 * and the others are not yet: the model then runs on ids, and the reason is given.
 */
const CONTROL = 3;
const USER_DEFINED = 4;

export function ggufTokenizer(g: GgufFile): { tokenizer?: TextTokenizer; reason?: string } {
  const model = g.metadata.get('tokenizer.ggml.model');
  if (model === undefined) return { reason: 'the GGUF carries no tokenizer' };
  if (model !== 'gpt2') return { reason: `GGUF tokenizer model ${JSON.stringify(model)} is not supported yet (have: gpt2); give ids` };
  const tokens = g.metadata.get('tokenizer.ggml.tokens');
  const merges = g.metadata.get('tokenizer.ggml.merges');
  const types = g.metadata.get('tokenizer.ggml.token_type');
  const place = { file: g.path, key: 'tokenizer.ggml.tokens' };
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) throw new InspectorError('must be an array of strings', place);
  if (!Array.isArray(merges) || merges.some((m) => typeof m !== 'string')) throw new InspectorError('must be an array of strings', { ...place, key: 'tokenizer.ggml.merges' });
  const vocab: Record<string, number> = {};
  (tokens as string[]).forEach((t, i) => (vocab[t] = i));
  const added = Array.isArray(types)
    ? (types as unknown[]).flatMap((t, id) => (t === CONTROL || t === USER_DEFINED ? [{ id, content: (tokens as string[])[id], single_word: false, lstrip: false, rstrip: false, normalized: t === USER_DEFINED, special: t === CONTROL }] : []))
    : [];
  const bos = g.metadata.get('tokenizer.ggml.bos_token_id');
  const addBos = g.metadata.get('tokenizer.ggml.add_bos_token') === true && typeof bos === 'number';
  const bosToken = typeof bos === 'number' ? (tokens as string[])[bos] : undefined;
  const json = {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: addBos
      ? { type: 'TemplateProcessing', single: [{ SpecialToken: { id: bosToken, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }], special_tokens: { [bosToken!]: { id: bosToken, ids: [bos], tokens: [bosToken] } } }
      : null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, {});
  } catch (e) {
    throw new InspectorError(`the GGUF tokenizer metadata does not make a tokenizer: ${(e as Error).message}`, place);
  }
  return { tokenizer: textTokenizer(tok, g.path) };
}
