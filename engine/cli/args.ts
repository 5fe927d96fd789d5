import { UsageError } from './errors';

/** Parse `5,77,13` (one sequence) or `5,77,13;1,2,0` (a batch) into [batch][position] ids. */
export function parseIdList(text: string, what: string): number[][] {
  const rows = text.split(';').map((row) => row.trim());
  const ids = rows.map((row, b) =>
    row.split(',').map((s, t) => {
      const v = s.trim();
      if (!/^\d+$/.test(v)) {
        throw new UsageError(`${what}: '${v.slice(0, 40)}' (sequence ${b}, position ${t}) is not a non-negative integer`);
      }
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new UsageError(`${what}: '${v.slice(0, 40)}' (sequence ${b}, position ${t}) is too large`);
      return n;
    }),
  );
  const T = ids[0].length;
  if (ids.some((r) => r.length !== T)) throw new UsageError(`${what}: every sequence in the batch must have the same length`);
  return ids;
}

export function parsePositiveInt(text: string | undefined, what: string, def: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return def;
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a non-negative integer, got '${text.slice(0, 40)}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > max) throw new UsageError(`${what} must be at most ${max}, got ${text.slice(0, 40)}`);
  return n;
}

/** A 0/1 attention mask in the same [batch][position] layout as the ids. */
export function parseMask(text: string, what: string): number[][] {
  const rows = parseIdList(text, what);
  rows.forEach((row, b) =>
    row.forEach((v, t) => {
      if (v !== 0 && v !== 1) throw new UsageError(`${what}: ${v} (sequence ${b}, position ${t}) must be 1 (attend) or 0 (masked)`);
    }),
  );
  return rows;
}
