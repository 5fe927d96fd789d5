import type { Place } from '../protocol/place';

export type { Place };

/**
 * A mistake in the user's input (config, weights, ids): reported with the place it was found,
 * never with a stack trace. Anything else that is thrown is a bug in the engine.
 */
export class InspectorError extends Error {
  readonly place: Place;

  constructor(message: string, place: Place = {}) {
    super(message);
    this.name = 'InspectorError';
    this.place = place;
  }

  /** The message with its place, as the CLI and the extension show it. */
  describe(): string {
    const where = [
      this.place.file,
      this.place.key && `key '${this.place.key}'`,
      this.place.tensor && `tensor '${this.place.tensor}'`,
    ]
      .filter(Boolean)
      .join(', ');
    return where ? `${where}: ${this.message}` : this.message;
  }
}

export function isInspectorError(e: unknown): e is InspectorError {
  return e instanceof InspectorError;
}
