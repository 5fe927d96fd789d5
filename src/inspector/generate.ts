import type { GenerateSampling } from '../../protocol/worker';
import type { Inspector } from './inspector';

/**
 * *Transformer Inspector: Generate Next Token*: the engine appends a token to the input with its KV cache
 * and traces only the new position (engine/worker/generation.ts); the panel then walks that position's
 * steps, its attention one row over every key. Greedy by default.
 */

/** What the command asks the engine for: how many tokens and how they are picked. */
export interface GenerateArgs {
  count: number;
  sampling: GenerateSampling;
}

/** The most tokens one command asks for (each is one position; the panel shows the last one's steps). */
export const MAX_TOKENS_PER_COMMAND = 256;

/**
 * The command's arguments, for tests and keybindings: none (one greedy token), a count, or
 * `{ count?, topK?, temperature?, seed? }`. A string names the reason it is refused.
 */
export function parseGenerateArgs(arg: unknown): GenerateArgs | string {
  if (arg === undefined || arg === null) return { count: 1, sampling: { kind: 'greedy' } };
  if (typeof arg === 'number') return isCount(arg) ? { count: arg, sampling: { kind: 'greedy' } } : `the number of tokens must be a whole number from 1 to ${MAX_TOKENS_PER_COMMAND}, not ${arg}`;
  if (typeof arg !== 'object') return 'give a number of tokens or { count, topK, temperature, seed }';
  const o = arg as Record<string, unknown>;
  const count = o.count ?? 1;
  if (!isCount(count)) return `the number of tokens must be a whole number from 1 to ${MAX_TOKENS_PER_COMMAND}, not ${String(count)}`;
  if (o.topK === undefined) return { count, sampling: { kind: 'greedy' } };
  const k = o.topK;
  const temperature = o.temperature ?? 1;
  const seed = o.seed ?? 0;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) return `topK must be a whole number ≥ 1, not ${String(k)}`;
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) return `temperature must be a positive number, not ${String(temperature)}`;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) return `seed must be a whole number ≥ 0, not ${String(seed)}`;
  return { count, sampling: { kind: 'top_k', k, temperature, seed } };
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_TOKENS_PER_COMMAND;
}

/** The progress notification's title. */
export function generateTitle(args: GenerateArgs): string {
  const how = args.sampling.kind === 'greedy' ? 'greedy' : `top-${args.sampling.k}, temperature ${args.sampling.temperature}, seed ${args.sampling.seed}`;
  return `Generating ${args.count === 1 ? 'the next token' : `${args.count} tokens`} (${how})`;
}

/** Where the command's refusals go (VS Code's error and information messages). */
export interface Tell {
  error(message: string): void;
  info(message: string): void;
}

/** The palette command: checks the arguments and that a decoder is loaded, then asks the inspector to generate. */
export async function generateCommand(inspector: Pick<Inspector, 'state' | 'generate'>, arg: unknown, tell: Tell): Promise<void> {
  const args = parseGenerateArgs(arg);
  if (typeof args === 'string') return tell.error(`Transformer Inspector: Generate Next Token: ${args}.`);
  const limits = inspector.state.limits;
  if (!limits) return tell.info('Transformer Inspector: open a config with a runnable model first.');
  if (limits.architecture !== 'decoder') {
    return tell.info(`Transformer Inspector: Generate Next Token runs decoder-only models; this one is an ${limits.architecture}.`);
  }
  await inspector.generate(args);
}
