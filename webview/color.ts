/**
 * Color scales for heatmaps, legends and histograms. Pure: the theme arrives as a `ThemeColors`
 * value (built from the body's class and CSS variables by `theme.ts`), and colors leave as packed
 * RGBA words ready to be written into an ImageData through a Uint32Array (little-endian: 0xAABBGGRR).
 */

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export type Rgb = readonly [number, number, number];

/** What the scales need from the theme. */
export interface ThemeColors {
  kind: ThemeKind;
  /** Color of 0 on the diverging scale and of "nothing" on the sequential one. */
  neutral: Rgb;
  /** Panel background, drawn between large cells. */
  background: Rgb;
  /** Stripes of masked-out cells (the theme's disabled color, blended onto the neutral). */
  masked: Rgb;
  /** Quiet foreground for chart marks such as histogram bars (the description color). */
  ink: Rgb;
}

/** Theme kind from the classes VS Code puts on the webview's body. */
export function themeKindOf(classes: Iterable<string>): ThemeKind {
  const set = new Set(classes);
  if (set.has('vscode-high-contrast-light')) return 'high-contrast-light';
  if (set.has('vscode-high-contrast')) return 'high-contrast';
  if (set.has('vscode-light')) return 'light';
  return 'dark';
}

/** Neutral (zero) colors per theme kind: a hair off the usual editor backgrounds, so 0 still reads as a cell. */
export const NEUTRAL: Record<ThemeKind, Rgb> = {
  light: [243, 243, 243],
  dark: [44, 44, 44],
  'high-contrast': [0, 0, 0],
  'high-contrast-light': [255, 255, 255],
};

const INK_FALLBACK: Record<ThemeKind, Rgb> = {
  light: [113, 113, 113],
  dark: [157, 157, 157],
  'high-contrast': [255, 255, 255],
  'high-contrast-light': [41, 41, 41],
};

const DISABLED_FALLBACK: Record<ThemeKind, Rgb> = {
  light: [160, 160, 160],
  dark: [110, 110, 110],
  'high-contrast': [165, 165, 165],
  'high-contrast-light': [110, 110, 110],
};

/** Parse a CSS color as VS Code writes its variables: #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba(). */
export function parseCssColor(text: string): { rgb: Rgb; alpha: number } | undefined {
  const s = text.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(s);
  if (hex) {
    let h = hex[1];
    if (h.length <= 4) h = [...h].map((c) => c + c).join('');
    const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
    return { rgb: [n(0), n(2), n(4)], alpha: h.length === 8 ? n(6) / 255 : 1 };
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/.exec(s);
  if (fn) {
    const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
    const a = fn[4] === undefined ? 1 : fn[4].endsWith('%') ? parseFloat(fn[4]) / 100 : parseFloat(fn[4]);
    return { rgb: [clamp(+fn[1]), clamp(+fn[2]), clamp(+fn[3])], alpha: Math.max(0, Math.min(1, a)) };
  }
  return undefined;
}

/** `over` with opacity `alpha` composited onto `under`. */
export function blend(over: Rgb, alpha: number, under: Rgb): Rgb {
  return [0, 1, 2].map((i) => Math.round(over[i] * alpha + under[i] * (1 - alpha))) as unknown as Rgb;
}

/** Theme colors from the body's classes and CSS variables (any may be empty). */
export function themeColors(
  classes: Iterable<string>,
  background: string,
  disabled: string,
  description = '',
): ThemeColors {
  const kind = themeKindOf(classes);
  const neutral = NEUTRAL[kind];
  const bg = parseCssColor(background);
  const dis = parseCssColor(disabled);
  const background_ = bg ? blend(bg.rgb, bg.alpha, neutral) : neutral;
  const ink = parseCssColor(description);
  return {
    kind,
    neutral,
    background: background_,
    masked: dis ? blend(dis.rgb, dis.alpha, neutral) : DISABLED_FALLBACK[kind],
    ink: ink ? blend(ink.rgb, ink.alpha, background_) : INK_FALLBACK[kind],
  };
}

/** Pack a color for a little-endian Uint32Array view of ImageData. */
export function pack([r, g, b]: Rgb, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export function unpack(word: number): [number, number, number, number] {
  return [word & 255, (word >>> 8) & 255, (word >>> 16) & 255, word >>> 24];
}

export function cssRgb([r, g, b]: Rgb): string {
  return `rgb(${r}, ${g}, ${b})`;
}

const hexRgb = (h: string): Rgb => [
  parseInt(h.slice(1, 3), 16),
  parseInt(h.slice(3, 5), 16),
  parseInt(h.slice(5, 7), 16),
];

/** Stops of the negative half (from the extreme inwards) and positive half (inwards to the extreme). */
const DIVERGING: Record<ThemeKind, { negative: string[]; positive: string[] }> = {
  // ColorBrewer RdBu: darker with magnitude on a light background.
  light: { negative: ['#2166ac', '#67a9cf', '#d1e5f0'], positive: ['#fddbc7', '#ef8a62', '#b2182b'] },
  // Brighter with magnitude on a dark background (like the "berlin" and "vik" maps).
  dark: { negative: ['#8ec5ff', '#3f86c8', '#1f4466'], positive: ['#6a2c1e', '#c4553a', '#ffab8a'] },
  'high-contrast': {
    negative: ['#4fc3ff', '#0a78c8', '#003a66'],
    positive: ['#663000', '#d46a00', '#ffb000'],
  },
  'high-contrast-light': {
    negative: ['#0010a0', '#3a5fd0', '#b8c8f0'],
    positive: ['#f0c0b0', '#d04020', '#a00000'],
  },
};

/** Sequential maps for values in [0, 1] (attention patterns), starting at the neutral. */
const SEQUENTIAL: Record<ThemeKind, string[]> = {
  light: ['#c6dbef', '#6baed6', '#2171b5', '#08306b'],
  dark: ['#3b0f70', '#8c2981', '#de4968', '#fe9f6d', '#fcfdbf'],
  'high-contrast': ['#3a2a00', '#a06000', '#ffb000', '#ffff80'],
  'high-contrast-light': ['#b8c8f0', '#3a5fd0', '#0010a0', '#000040'],
};

/** A function from t ∈ [0, 1] to a color through evenly spaced stops (linear in sRGB). */
function ramp(stops: readonly Rgb[]): (t: number) => Rgb {
  const last = stops.length - 1;
  return (t) => {
    const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * last;
    const i = Math.min(last - 1, Math.floor(x));
    const f = x - i;
    const a = stops[i];
    const b = stops[i + 1];
    return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as unknown as Rgb;
  };
}

/** A scale maps a value to a packed color; `lut` holds 257 precomputed entries so drawing is a lookup. */
export interface ColorScale {
  kind: 'diverging' | 'sequential';
  /** Values mapped to the ends of the scale (diverging: [−extent, +extent]). */
  domain: [number, number];
  /** Packed color of a value. Non-finite values get the end of their sign, NaN the neutral. */
  color(v: number): number;
  rgb(v: number): Rgb;
}

/** Odd, so that the middle entry is exactly the centre of a diverging scale. */
const LUT_SIZE = 257;

function fromRamp(
  kind: ColorScale['kind'],
  domain: [number, number],
  f: (t: number) => Rgb,
  nanColor: Rgb,
): ColorScale {
  const lutRgb: Rgb[] = [];
  const lut = new Uint32Array(LUT_SIZE);
  for (let i = 0; i < LUT_SIZE; i++) {
    lutRgb.push(f(i / (LUT_SIZE - 1)));
    lut[i] = pack(lutRgb[i]);
  }
  const [lo, hi] = domain;
  const span = hi - lo || 1;
  const nan = pack(nanColor);
  const index = (v: number) => {
    const t = v === Infinity ? 1 : v === -Infinity ? 0 : (v - lo) / span;
    return Math.round(Math.max(0, Math.min(1, t)) * (LUT_SIZE - 1));
  };
  return {
    kind,
    domain,
    color: (v) => (Number.isNaN(v) ? nan : lut[index(v)]),
    rgb: (v) => (Number.isNaN(v) ? nanColor : lutRgb[index(v)]),
  };
}

/**
 * A diverging scale centred on 0: `extent` (> 0) maps to the extremes, 0 to the theme's neutral.
 * Use `symmetricExtent` to pick the extent from the data.
 */
export function divergingScale(theme: ThemeColors, extent: number): ColorScale {
  const e = extent > 0 && Number.isFinite(extent) ? extent : 1;
  const { negative, positive } = DIVERGING[theme.kind];
  const stops = [...negative.map(hexRgb), theme.neutral, ...positive.map(hexRgb)];
  return fromRamp('diverging', [-e, e], ramp(stops), theme.neutral);
}

/** A sequential scale from the theme's neutral at `lo` to the strongest color at `hi`. */
export function sequentialScale(theme: ThemeColors, lo = 0, hi = 1): ColorScale {
  const stops = [theme.neutral, ...SEQUENTIAL[theme.kind].map(hexRgb)];
  return fromRamp('sequential', [lo, hi > lo ? hi : lo + 1], ramp(stops), theme.neutral);
}

/** Largest finite magnitude among min and max, so 0 sits in the middle of the scale. */
export function symmetricExtent(min: number, max: number): number {
  const e = Math.max(Number.isFinite(min) ? Math.abs(min) : 0, Number.isFinite(max) ? Math.abs(max) : 0);
  return e > 0 ? e : 1;
}

/** Relative luminance (WCAG), to pick readable text over a color. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** The stripes of masked cells: the theme's disabled color halfway to the neutral, lighter than any data. */
export function maskStripeColor(theme: ThemeColors): Rgb {
  return blend(theme.masked, 0.5, theme.neutral);
}
