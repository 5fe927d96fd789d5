import { describeValue, isObject, type JsonObject } from '../json';
import type { HfConfig } from './reader';

/**
 * Rotary-embedding settings of a Llama-shaped config.json, in either layout transformers writes:
 * - transformers 4: top-level `rope_theta`, `partial_rotary_factor` and an optional `rope_scaling`
 *   object (`{type|rope_type, factor, …}`);
 * - transformers 5: one `rope_parameters` object `{rope_theta, rope_type, partial_rotary_factor?, factor?, …}`
 *   and no top-level `rope_theta` (LlamaConfig().save_pretrained() in 5.x writes exactly that).
 * Both are read here, once; a value given both ways must agree. `type` is the rope_type ("default"
 * scales nothing); `key` names where a scaling type came from, so a refusal can name it.
 */
export interface RopeSettings {
  readonly theta: number;
  readonly partialFactor: number;
  /** transformers' rope_type: "default", "linear", "dynamic", "yarn", "llama3", "longrope", … */
  readonly type: string;
  /** Whether the frequencies are scaled (any type but "default"). */
  readonly scaled: boolean;
  /** The key the rope type was read from (what a refusal names). */
  readonly key: 'rope_parameters' | 'rope_scaling';
}

export function readRope(c: HfConfig, d: { theta: number; partialFactor: number }): RopeSettings {
  const p = ropeObject(c, 'rope_parameters');
  const scaling = ropeObject(c, 'rope_scaling');
  const theta = agreed(c, 'rope_theta', p, d.theta, 1, Infinity, false);
  const partialFactor = agreed(c, 'partial_rotary_factor', p, d.partialFactor, 0, 1, true);
  const fromParams = p ? ropeType(c, 'rope_parameters', p) : null;
  const fromScaling = scaling ? ropeType(c, 'rope_scaling', scaling) : null;
  if (fromParams && fromScaling && fromParams !== fromScaling) {
    c.fail('rope_parameters', `'rope_parameters.rope_type' ("${fromParams}") and 'rope_scaling' ("${fromScaling}") disagree`);
  }
  const type = fromParams ?? fromScaling ?? 'default';
  const key = fromParams !== null && fromParams !== 'default' ? 'rope_parameters' : fromScaling !== null ? 'rope_scaling' : 'rope_parameters';
  return { theta, partialFactor, type, scaled: type !== 'default', key };
}

function ropeObject(c: HfConfig, key: string): JsonObject | null {
  const v = c.obj[key];
  if (v === undefined || v === null) return null;
  if (!isObject(v)) c.fail(key, `'${key}' must be an object, got ${describeValue(v)}`);
  return v;
}

/** rope_type (or the older `type`); absent → "default". */
function ropeType(c: HfConfig, key: string, o: JsonObject): string {
  const v = o.rope_type ?? o.type;
  if (v === undefined || v === null) return 'default';
  if (typeof v !== 'string') c.fail(`${key}.rope_type`, `'${key}.rope_type' must be a string, got ${describeValue(v)}`);
  return v;
}

/** A number given top-level, inside rope_parameters, or both (then equal); `def` when neither. */
function agreed(c: HfConfig, name: string, p: JsonObject | null, def: number, min: number, max: number, exclusiveMin: boolean): number {
  const top = c.has(name) ? c.r.number(name, { min, max, exclusiveMin }) : null;
  const inner = p?.[name];
  let nested: number | null = null;
  if (inner !== undefined && inner !== null) {
    const key = `rope_parameters.${name}`;
    if (typeof inner !== 'number' || !Number.isFinite(inner) || inner < min || inner > max || (exclusiveMin && inner === min)) {
      c.fail(key, `'${key}' must be a number ${exclusiveMin ? '>' : '≥'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}, got ${describeValue(inner)}`);
    }
    nested = inner;
  }
  if (top !== null && nested !== null && top !== nested) c.fail(`rope_parameters.${name}`, `'rope_parameters.${name}' (${nested}) and '${name}' (${top}) disagree`);
  return nested ?? top ?? def;
}
