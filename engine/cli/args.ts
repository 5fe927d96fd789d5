import { InspectorError } from '../errors';

/** Parse `5,77,13` (one sequence) or `5,77,13;1,2,0` (a batch) into [batch][position] ids. */
export function parseIdList(text: string, what: string): number[][] {
  const rows = text.split(';').map((row) => row.trim());
  const ids = rows.map((row, b) =>
    row.split(',').map((s, t) => {
      const v = s.trim();
      if (!/^-?\d+$/.test(v)) {
        throw new InspectorError(`${what}: '${v}' (sequence ${b}, position ${t}) is not an integer id`);
      }
      return Number(v);
    }),
  );
  const T = ids[0].length;
  if (ids.some((r) => r.length !== T)) throw new InspectorError(`${what}: every sequence in the batch must have the same length`);
  return ids;
}

export function parsePositiveInt(text: string | undefined, what: string, def: number): number {
  if (text === undefined) return def;
  if (!/^\d+$/.test(text)) throw new InspectorError(`${what} must be a non-negative integer, got '${text}'`);
  return Number(text);
}
