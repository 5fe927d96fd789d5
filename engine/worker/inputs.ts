/**
 * The input of a session: the default input of a model, ids from what the user gave (ids or text),
 * the checks the worker repeats, and the text an input keeps beside its ids.
 */
import { InspectorError } from '../errors';
import type { LoadedModel } from '../model/load';
import type { InputIds, InputLimits, InputRequest } from '../../protocol/worker';

/** The input used until the user sets one: ids 1, 2, … (at most 8, within the vocabulary and max_len). */
export const DEFAULT_INPUT_LENGTH = 8;

/** With a tokenizer, the default input is this text (when it fits the vocabulary and max_len). */
export const DEFAULT_TEXT = 'The quick brown fox jumps over the lazy dog';

export function inputLimits(loaded: LoadedModel): InputLimits {
  const spec = loaded.spec;
  return {
    architecture: spec.architecture,
    vocabSize: spec.vocabSize,
    decoderVocabSize: spec.tgtVocabSize,
    maxLen: spec.maxLen,
    ...(loaded.tokenizer ? { tokenizer: loaded.tokenizer.file } : {}),
  };
}

/** Ids 1, 2, … or, with a tokenizer, DEFAULT_TEXT when its ids fit the model. */
export function defaultInput(limits: InputLimits, loaded?: LoadedModel): InputIds {
  const n = Math.min(DEFAULT_INPUT_LENGTH, limits.maxLen);
  const count = (vocab: number) => Array.from({ length: n }, (_, i) => (i + 1) % vocab);
  const fromText = loaded?.tokenizer?.encode(DEFAULT_TEXT).ids;
  const fits = (ids: number[] | undefined, vocab: number): ids is number[] => !!ids && ids.length > 0 && ids.length <= limits.maxLen && ids.every((id) => id < vocab);
  const ids = fits(fromText, limits.vocabSize) ? fromText : count(limits.vocabSize);
  if (limits.architecture !== 'encoder-decoder') return { ids };
  return { ids, decoderIds: fits(fromText, limits.decoderVocabSize) ? fromText : count(limits.decoderVocabSize) };
}

/** Ids from what the user gave: ids as they are, text through the tokenizer beside the config. */
export function resolveInput(loaded: LoadedModel, input: InputRequest): InputIds {
  const side = (ids: number[] | undefined, text: string | undefined, what: string): number[] | undefined => {
    if (ids !== undefined && text !== undefined) throw new InspectorError(`${what}: give ids or text, not both`);
    if (text === undefined) return ids;
    if (!loaded.tokenizer) throw new InspectorError(`${what}: text needs a tokenizer.json beside the config; give token ids instead`, { file: loaded.configPath });
    const encoded = loaded.tokenizer.encode(text).ids;
    if (encoded.length === 0) throw new InspectorError(`${what}: the text tokenizes to no tokens`);
    return encoded;
  };
  const ids = side(input.ids, input.text, 'input');
  if (!ids) throw new InspectorError('input: give token ids or text');
  const decoderIds = side(input.decoderIds, input.decoderText, 'decoder input');
  return decoderIds ? { ids, decoderIds } : { ids };
}

/** The text of each side of an input given as text. */
export function textOf(input: InputRequest): { text?: string; decoderText?: string } {
  return { ...(input.text !== undefined ? { text: input.text } : {}), ...(input.decoderText !== undefined ? { decoderText: input.decoderText } : {}) };
}

/** DEFAULT_TEXT when the default input is its tokens. */
export function defaultText(input: InputIds, loaded: LoadedModel): { text?: string } {
  const ids = loaded.tokenizer?.encode(DEFAULT_TEXT).ids;
  return ids && ids.length === input.ids.length && ids.every((id, i) => id === input.ids[i]) ? { text: DEFAULT_TEXT } : {};
}

/** The same checks the host makes while the user types, repeated here because the worker trusts no one. */
export function checkInput(input: InputIds, limits: InputLimits): void {
  const side = (ids: unknown, vocab: number, what: string) => {
    if (!Array.isArray(ids) || ids.length === 0) throw new InspectorError(`${what}: give at least one token id`);
    if (ids.length > limits.maxLen) throw new InspectorError(`${what}: ${ids.length} tokens is more than max_len (${limits.maxLen})`);
    ids.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new InspectorError(`${what}: id ${String(id)} at position ${t} is outside the vocabulary (0 … ${vocab - 1})`);
      }
    });
  };
  side(input.ids, limits.vocabSize, 'input ids');
  if (limits.architecture === 'encoder-decoder') {
    side(input.decoderIds, limits.decoderVocabSize, 'decoder ids');
  } else if (input.decoderIds !== undefined) {
    throw new InspectorError('decoder ids apply only to encoder-decoder models');
  }
}

/**
 * The input as text after generating: the text it had plus the new tokens' labels, or all ids decoded —
 * the first that tokenizes back to exactly these ids (else the input stays ids).
 */
export function roundTripText(loaded: LoadedModel, before: string | undefined, ids: number[], from: number): { text?: string } {
  const tokenizer = loaded.tokenizer;
  if (!tokenizer) return {};
  const candidates = [...(before !== undefined ? [before + ids.slice(from).map((id) => tokenizer.label(id)).join('')] : []), tokenizer.decode(ids)];
  const same = (text: string) => {
    const again = tokenizer.encode(text).ids;
    return again.length === ids.length && again.every((id, i) => id === ids[i]);
  };
  const text = candidates.find(same);
  return text !== undefined ? { text } : {};
}
