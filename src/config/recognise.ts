import { parse } from 'jsonc-parser';
import { depthExceededAt } from '../../engine/config/json';
import { FILE_LIMITS } from '../../engine/io/guarded';

/**
 * Which files the inspector treats as model configs: `*.transformer.json` (native), and Hugging Face
 * `config.json` files, recognised by content (a JSON object with a string `model_type`). Pure.
 */
export type ConfigKind = 'native' | 'huggingface';

export const NATIVE_SUFFIX = '.transformer.json';

export function isNativeConfigPath(p: string): boolean {
  return p.toLowerCase().endsWith(NATIVE_SUFFIX);
}

export function isHfConfigName(p: string): boolean {
  return /(^|[\\/])config\.json$/i.test(p);
}

/** The kind of config a file is, from its path and (for config.json) its text; undefined if neither. */
export function configKind(p: string, text: string | undefined): ConfigKind | undefined {
  if (isNativeConfigPath(p)) return 'native';
  if (!isHfConfigName(p) || text === undefined) return undefined;
  return hfModelType(text) !== undefined ? 'huggingface' : undefined;
}

/** `model_type` of a Hugging Face config text, if it is a JSON object that has one. */
export function hfModelType(text: string): string | undefined {
  // jsonc-parser recurses: text nested too deep (or too large for a config) is no config.
  if (text.length > FILE_LIMITS.config || depthExceededAt(text) >= 0) return undefined;
  const v: unknown = parse(text, [], { allowTrailingComma: true });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const t = (v as Record<string, unknown>).model_type;
  return typeof t === 'string' ? t : undefined;
}
