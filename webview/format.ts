/**
 * Number and shape formatting for the panel. Pure functions, no DOM. Parameter counts and byte sizes
 * arrive as decimal strings (they can exceed 2^53), so they are handled with BigInt, never Number.
 */

/** Group the digits of a decimal integer string in threes: "124439808" → "124,439,808". */
export function thousands(decimal: string | number | bigint): string {
  const text = typeof decimal === 'string' ? decimal.trim() : BigInt(decimal).toString();
  const match = /^(-?)(\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, digits] = match;
  const stripped = digits.replace(/^0+(?=\d)/, '');
  return sign + stripped.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** BigInt of a decimal string, or undefined when it is not one. */
export function toBigInt(decimal: string): bigint | undefined {
  return /^-?\d+$/.test(decimal.trim()) ? BigInt(decimal.trim()) : undefined;
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/**
 * Bytes in binary units with one or two decimals: "497759232" → "474.7 MiB". Exact for any
 * size: the integer part is computed with BigInt and only the last division uses floating point.
 */
export function humanBytes(bytes: string | number | bigint): string {
  const value = typeof bytes === 'string' ? toBigInt(bytes) : BigInt(bytes);
  if (value === undefined) return String(bytes);
  if (value < 0n) return '−' + humanBytes(-value);
  let unit = 0;
  let scaled = value;
  while (scaled >= 1024n * 1024n && unit < BINARY_UNITS.length - 2) {
    scaled /= 1024n;
    unit++;
  }
  // scaled < 1024², so Number(scaled) is exact; one more step gives the fraction.
  let n = Number(scaled);
  if (n >= 1024 && unit < BINARY_UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  if (unit === 0) return `${n} B`;
  const digits = n >= 10 ? 1 : 2;
  return `${n.toFixed(digits)} ${BINARY_UNITS[unit]}`;
}

/** "497,759,232 bytes" for the hover text. */
export function exactBytes(bytes: string | number | bigint): string {
  const text = thousands(typeof bytes === 'string' ? bytes : BigInt(bytes));
  return `${text} ${text === '1' ? 'byte' : 'bytes'}`;
}

/** Share of `part` in `whole` as a percentage string with one decimal: "12.3%". */
export function percent(part: string, whole: string): string {
  const p = toBigInt(part);
  const w = toBigInt(whole);
  if (p === undefined || w === undefined || w === 0n) return '';
  const tenths = (p * 1000n + w / 2n) / w;
  const value = Number(tenths) / 10;
  if (p > 0n && value === 0) return '<0.1%';
  return `${value.toFixed(1)}%`;
}

/**
 * A tensor value for labels and tooltips: four significant figures, exponent form for very large or
 * small magnitudes, a real minus sign, and "−∞"/"+∞"/"NaN" spelled out.
 */
export function formatValue(v: number, significant = 4): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+∞';
  if (v === -Infinity) return '−∞';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  let text: string;
  if (abs >= 1e5 || abs < 1e-3) {
    text = abs
      .toExponential(Math.max(0, significant - 2))
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  } else {
    text = String(Number(abs.toPrecision(significant)));
  }
  return (v < 0 ? '−' : '') + text;
}

/** "[1, 5, 16]". */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** "batch 1 × pos 5 × d_model 16"; falls back to the plain shape when dims and shape disagree. */
export function formatDims(dims: readonly string[], shape: readonly number[]): string {
  if (dims.length !== shape.length) return formatShape(shape);
  return shape.map((n, i) => `${dims[i]} ${n}`).join(' × ');
}

/** Step position for the stepper: "3 / 7 computed so far" until the pass is done, then "3 / 42". */
export function formatPosition(index: number, computed: number, done: boolean): string {
  const k = index + 1;
  return done ? `${k} / ${computed}` : `${k} / ${computed} computed so far`;
}

/**
 * A token as a label: leading and trailing spaces shown as "␣", newlines as "↵", tabs as "→", and
 * the empty string as "∅", so " the" and "the" look different.
 */
export function visibleToken(token: string): string {
  if (token === '') return '∅';
  const shown = token
    .replace(/\r?\n/g, '↵')
    .replace(/\t/g, '→')
    // Other control characters (a byte token decoded on its own) as \xNN escapes.
    .replace(/./gsu, (c) => {
      const code = c.charCodeAt(0);
      return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
    });
  return shown.replace(/^ +| +$/g, (spaces) => '␣'.repeat(spaces.length));
}
