import type { InputRequest } from '../../protocol/worker';

/**
 * What the inspector keeps per config in the workspace state (VS Code's workspaceState), so that
 * reopening the config, or reloading the window, brings back its input and step. Pure: no vscode.
 */
/** What is kept per config in the workspace state. */
export interface Remembered {
  input: InputRequest;
  stepIndex?: number;
}

export function memoryKey(configPath: string): string {
  return `transformerInspector.session:${configPath}`;
}

/** A kept entry, checked: the workspace state outlives versions of the extension. */
export function isRemembered(v: unknown): v is Remembered {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as { input?: Record<string, unknown>; stepIndex?: unknown };
  const ids = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((i) => Number.isSafeInteger(i) && (i as number) >= 0));
  const text = (x: unknown) => x === undefined || typeof x === 'string';
  const input = r.input;
  return (
    typeof input === 'object' &&
    input !== null &&
    ids(input.ids) &&
    ids(input.decoderIds) &&
    text(input.text) &&
    text(input.decoderText) &&
    (input.ids !== undefined || input.text !== undefined) &&
    (r.stepIndex === undefined || (Number.isSafeInteger(r.stepIndex) && (r.stepIndex as number) >= 0))
  );
}
