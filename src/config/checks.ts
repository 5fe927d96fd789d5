import { isObject, type JsonValue } from '../../engine/config/json';
import { KEY_ROLE } from './facts';

/**
 * Problems of a config found all at once (the analysis stops at its first): sizes that must be
 * positive integers, and the conflicts between the width, the query heads and the key/value heads.
 * Each problem sits on the key at fault and names every key of its conflict. Only consulted when the
 * analysis refuses the config, so a rule here never flags a config the analysis accepts. Pure.
 */
export interface Problem {
  /** The key the diagnostic is placed on. */
  key: string;
  message: string;
  /** The other keys of a conflict (shown as related locations). */
  related: string[];
}

const WIDTH_KEYS = ['hidden_size', 'd_model', 'n_embd'];
const HEADS_KEYS = ['num_attention_heads', 'num_heads', 'n_head'];
const KV_KEYS = ['num_key_value_heads', 'num_kv_heads'];
/** Keys that set the head size themselves: then the width need not be divisible by the heads. */
const HEAD_SIZE_KEYS = ['head_dim', 'qk_nope_head_dim', 'kv_lora_rank', 'attention_head_size', 'd_kv'];

export function configProblems(json: JsonValue): Problem[] {
  if (!isObject(json)) return [];
  const problems: Problem[] = [];
  const num = (k: string) => (typeof json[k] === 'number' ? (json[k] as number) : undefined);
  const first = (keys: readonly string[]) => keys.find((k) => num(k) !== undefined);

  // Sizes: positive integers.
  const bad = new Set<string>();
  for (const [key, value] of Object.entries(json)) {
    if (!(key in KEY_ROLE) || typeof value !== 'number') continue;
    if (!Number.isInteger(value)) problems.push({ key, message: `'${key}' must be an integer, got ${value}`, related: [] });
    else if (value < 1) problems.push({ key, message: `'${key}' must be ≥ 1, got ${value}`, related: [] });
    else continue;
    bad.add(key);
  }

  // Conflicts between sizes that are themselves fine.
  const conflicts: { keys: [string, string]; message: string }[] = [];
  const width = first(WIDTH_KEYS);
  const heads = first(HEADS_KEYS);
  const kv = first(KV_KEYS);
  const ok = (k: string | undefined): k is string => k !== undefined && !bad.has(k);
  if (ok(width) && ok(heads) && !HEAD_SIZE_KEYS.some((k) => json[k] !== undefined && json[k] !== null)) {
    const w = num(width)!;
    const n = num(heads)!;
    if (w % n !== 0) {
      conflicts.push({
        keys: [heads, width],
        message: `'${heads}' (${n}) must divide '${width}' (${w}): each head gets ${width} / ${heads} features (${(w / n).toFixed(2)} here); pick a divisor of ${w} or set 'head_dim'`,
      });
    }
  }
  if (ok(heads) && ok(kv)) {
    const n = num(heads)!;
    const g = num(kv)!;
    if (n % g !== 0) {
      conflicts.push({
        keys: [kv, heads],
        message: `'${kv}' (${g}) must divide '${heads}' (${n}): each key/value head serves a whole group of query heads${g > n ? `, and there cannot be more of them than query heads` : ''}`,
      });
    }
  }
  // The key at fault is the one in the most conflicts (heads = 7 breaks both rules); ties: the first named.
  const involvement = (k: string) => conflicts.filter((c) => c.keys.includes(k)).length;
  for (const c of conflicts) {
    const [a, b] = c.keys;
    const key = involvement(b) > involvement(a) ? b : a;
    problems.push({ key, message: c.message, related: c.keys.filter((k) => k !== key) });
  }
  return problems;
}

/**
 * The diagnostics to show: every problem found, with the analysis' own error in place of the problem
 * that says the same (one of its keys): its wording is kept when it names every key of the conflict,
 * and it moves to the key at fault. An error no problem covers is added as it is.
 */
export function mergeProblems(problems: readonly Problem[], analysisError: { message: string; key?: string }): Problem[] {
  const k = analysisError.key;
  const same = k === undefined ? -1 : problems.findIndex((p) => p.key === k || p.related.includes(k));
  if (same < 0) return [...problems, { key: k ?? '', message: analysisError.message, related: [] }];
  const p = problems[same];
  const namesAll = [p.key, ...p.related].every((key) => analysisError.message.includes(key));
  return problems.map((q, i) => (i === same && namesAll ? { ...q, message: analysisError.message } : q));
}
