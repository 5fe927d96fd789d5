import * as fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InspectorError } from '../errors';
import { loadModel, type LoadedModel } from '../model/load';
import type { ModelInput } from '../model/transformer';
import { parseIdList, parsePositiveInt } from './args';

/** The options every analysis command shares: PATH, an input as ids or text, --seed, --json. */
export const INPUT_OPTIONS = {
  ids: { type: 'string' },
  text: { type: 'string' },
  'decoder-ids': { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  svg: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export interface AnalysisArgs<V> {
  values: V;
  loaded: LoadedModel;
  /** A readable label of an id: the tokenizer's text, or the id. */
  label: (id: number) => string;
}

export function parseAnalysisArgs<O extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: O, usage: string) {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...INPUT_OPTIONS, ...options } });
  if (positionals.length !== 1) throw new InspectorError(`${command} takes one PATH\n${usage}`);
  const v = values as Record<string, string | boolean | undefined>;
  const seed = typeof v.seed === 'string' ? parsePositiveInt(v.seed, '--seed', 0) : undefined;
  const loaded = loadModel(positionals[0], { seed });
  const tok = loaded.tokenizer;
  const label = (id: number) => (tok ? tok.label(id) : String(id));
  return { values, loaded, label };
}

/** Text → ids with the tokenizer beside the config (special tokens it adds included, as `forward` does). */
export function tokenize(loaded: LoadedModel, text: string, flag: string): number[][] {
  if (!loaded.tokenizer) throw new InspectorError(`${flag} needs a tokenizer.json beside the config; give ids instead`, { file: loaded.configPath });
  const { ids } = loaded.tokenizer.encode(text);
  if (ids.length === 0) throw new InspectorError(`${flag}: the text tokenizes to no tokens`);
  return [ids];
}

/** The model input from --ids or --text (one of them; `required` false allows neither → undefined). */
export function readInput(loaded: LoadedModel, values: { ids?: string; text?: string; 'decoder-ids'?: string }, required: boolean, usage: string): ModelInput | undefined {
  if (values.ids !== undefined && values.text !== undefined) throw new InspectorError('give --ids or --text, not both');
  if (values.ids === undefined && values.text === undefined) {
    if (required) throw new InspectorError(`give the input as --ids or --text\n${usage}`);
    return undefined;
  }
  const ids = values.text !== undefined ? tokenize(loaded, values.text, '--text') : parseIdList(values.ids!, '--ids');
  const decoderIds = values['decoder-ids'] !== undefined ? parseIdList(values['decoder-ids'], '--decoder-ids') : undefined;
  if (loaded.model.decoder && !decoderIds) throw new InspectorError('an encoder-decoder model needs --decoder-ids as well');
  return { ids, decoderIds };
}

/**
 * A token named on the command line: an integer is an id; anything else is text that must tokenize to
 * exactly one token (the special tokens the tokenizer adds around every input, e.g. `<s>`, are dropped).
 */
export function resolveToken(loaded: LoadedModel, text: string, flag: string): number {
  const vocab = loaded.model.lmHead.outFeatures;
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    if (id >= vocab) throw new InspectorError(`${flag}: id ${id} is outside the vocabulary (0 … ${vocab - 1})`);
    return id;
  }
  const tok = loaded.tokenizer;
  if (!tok) throw new InspectorError(`${flag} '${text}': without a tokenizer.json beside the config, name the token by its id`, { file: loaded.configPath });
  const empty = tok.encode('').ids;
  let ids = tok.encode(text).ids;
  // The specials an empty input gets are added around every input: strip them from both ends.
  let lead = 0;
  while (lead < empty.length && ids[lead] === empty[lead]) lead++;
  const trail = empty.length - lead;
  ids = ids.slice(lead, ids.length - trail);
  if (ids.length !== 1) {
    throw new InspectorError(`${flag} '${text}' is ${ids.length} tokens (${ids.map((i) => JSON.stringify(tok.label(i))).join(' ')}): name one token, or its id`);
  }
  return ids[0];
}

/** A 0-based position, negative counting from the end (−1 = the last). */
export function readPosition(text: string | undefined, T: number, flag: string): number {
  if (text === undefined) return T - 1;
  if (!/^-?\d+$/.test(text)) throw new InspectorError(`${flag} must be an integer position, got '${text}'`);
  const p = Number(text) < 0 ? T + Number(text) : Number(text);
  if (p < 0 || p >= T) throw new InspectorError(`${flag} ${text} is outside the input (positions 0 … ${T - 1})`);
  return p;
}

/** Write an SVG figure (--svg FILE). */
export function writeSvg(file: string, svg: string, out: (s: string) => void): void {
  try {
    fs.writeFileSync(file, svg);
  } catch (e) {
    throw new InspectorError(`cannot write the figure: ${(e as Error).message}`, { file });
  }
  out(`wrote ${file}`);
}

/** A short cell label for a token. */
export function shortLabel(s: string, max = 6): string {
  const j = JSON.stringify(s).slice(1, -1);
  return j.length > max ? j.slice(0, max - 1) + '…' : j;
}

export { parsePositiveInt };
