/**
 * Reading the input a user types into "Set Input…": token ids separated by commas or spaces,
 * optionally in brackets. (Text is tokenized once the engine reads tokenizers; until then text
 * gets a message saying to give ids.) Pure: used for the input box's live validation.
 */

import { visibleToken } from '../../webview/format';

export interface IdLimits {
  vocabSize: number;
  maxLen: number;
}

export type ParsedIds = { ids: number[] } | { error: string };

export function parseIds(text: string, limits: IdLimits): ParsedIds {
  const body = text.trim().replace(/^\[(.*)\]$/s, '$1').trim();
  if (body === '') return { error: `give at least one token id (0 … ${limits.vocabSize - 1})` };
  const parts = body.split(/[\s,]+/).filter((p) => p !== '');
  const ids: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) {
      return /^-\d+$/.test(p)
        ? { error: `'${p}' is negative: ids run from 0 to ${limits.vocabSize - 1}` }
        : { error: `'${truncate(p)}' is not a token id: this model has no tokenizer, so give ids separated by commas (0 … ${limits.vocabSize - 1})` };
    }
    const id = Number(p);
    if (id >= limits.vocabSize) return { error: `id ${p} is outside the vocabulary (0 … ${limits.vocabSize - 1})` };
    ids.push(id);
  }
  if (ids.length > limits.maxLen) return { error: `${ids.length} tokens is more than max_len (${limits.maxLen})` };
  return { ids };
}

/**
 * What the user typed: ids when it is only numbers (and commas, spaces, brackets), otherwise text
 * for the tokenizer, which only a model with a tokenizer.json accepts.
 */
export function parseInput(text: string, limits: IdLimits & { tokenizer: boolean }): { ids: number[] } | { text: string } | { error: string } {
  const looksLikeIds = /^[\s,[\]\d-]*$/.test(text);
  if (looksLikeIds || !limits.tokenizer) return parseIds(text, limits);
  if (text.trim() === '') return { error: 'type some text, or token ids separated by commas' };
  return { text };
}

export function formatIds(ids: readonly number[]): string {
  return ids.join(', ');
}

function truncate(s: string): string {
  return s.length > 20 ? `${s.slice(0, 20)}…` : s;
}

/** Tokens listed under the input box. */
const SHOWN_TOKENS = 40;

/**
 * The line under the input box while the user types: the token count against the model's limit,
 * then the tokens, escaped as the panel shows them (spaces at the ends "␣", newlines "↵").
 */
export function countLine(tokens: readonly string[], maxLen: number): { message: string; over: boolean } {
  const shown = tokens.slice(0, SHOWN_TOKENS).map(visibleToken).join(' ');
  const more = tokens.length > SHOWN_TOKENS ? ` … (+${tokens.length - SHOWN_TOKENS})` : '';
  const over = tokens.length > maxLen;
  const count = `${tokens.length} ${tokens.length === 1 ? 'token' : 'tokens'} of at most ${maxLen}`;
  return { message: `${count}${over ? ' — too many: Enter offers to truncate' : ''}: ${shown}${more}`, over };
}
