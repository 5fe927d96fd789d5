/**
 * Heatmaps as standalone SVG (vector, for papers): a grid of cells with row and column labels, an optional
 * text per cell, a colour scale and a legend. Sequential scales go from the background to one hue; diverging
 * ones from red (negative) through white to blue (positive), symmetric around zero.
 */
export interface HeatmapSvg {
  title: string;
  values: number[][];
  rowLabels: string[];
  colLabels: string[];
  /** Text drawn in each cell (e.g. the lens's top token). */
  cellText?: string[][];
  scale: 'sequential' | 'diverging';
  /** The value range the colours span; by default the data's (symmetric for diverging). */
  min?: number;
  max?: number;
}

const CELL = 36;
const ROW_LABEL = 110;
const HEADER = 56;
const LEGEND = 40;

/** Text for an SVG element: markup characters escaped; control characters (not allowed in XML 1.0) replaced by U+FFFD. */
export function escapeXml(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 && ch !== '\t' && ch !== '\n' && ch !== '\r') out += '\ufffd';
    else out += ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' } as Record<string, string>)[ch] ?? ch;
  }
  return out;
}

function range(h: HeatmapSvg): [number, number] {
  const finite = h.values.flat().filter(Number.isFinite);
  if (h.scale === 'diverging') {
    const m = h.max ?? Math.max(1e-12, ...finite.map(Math.abs));
    return [-(h.min === undefined ? m : Math.abs(h.min)), m];
  }
  return [h.min ?? Math.min(0, ...finite), h.max ?? Math.max(1e-12, ...finite)];
}

/** A cell's fill for value v in [lo, hi]. */
export function cellColor(v: number, lo: number, hi: number, scale: HeatmapSvg['scale']): string {
  if (!Number.isFinite(v)) return '#cccccc';
  const mix = (a: number[], b: number[], t: number) => `rgb(${a.map((x, i) => Math.round(x + (b[i] - x) * t)).join(',')})`;
  const white = [255, 255, 255];
  if (scale === 'diverging') {
    const t = Math.max(-1, Math.min(1, v / (v >= 0 ? hi : -lo)));
    return t >= 0 ? mix(white, [33, 102, 172], t) : mix(white, [178, 24, 43], -t);
  }
  const t = Math.max(0, Math.min(1, (v - lo) / (hi - lo)));
  return mix(white, [8, 69, 148], t);
}

export function heatmapSvg(h: HeatmapSvg): string {
  const rows = h.values.length;
  const cols = Math.max(0, ...h.values.map((r) => r.length));
  const width = ROW_LABEL + cols * CELL + 20;
  const height = HEADER + rows * CELL + LEGEND;
  const [lo, hi] = range(h);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<title>${escapeXml(h.title)}</title>`,
    `<text x="4" y="14" font-size="12" font-weight="bold">${escapeXml(h.title)}</text>`,
  ];
  h.colLabels.slice(0, cols).forEach((label, c) => {
    const x = ROW_LABEL + c * CELL + CELL / 2;
    out.push(`<text x="${x}" y="${HEADER - 6}" text-anchor="start" transform="rotate(-45 ${x} ${HEADER - 6})">${escapeXml(label)}</text>`);
  });
  h.values.forEach((row, r) => {
    const y = HEADER + r * CELL;
    out.push(`<text x="${ROW_LABEL - 6}" y="${y + CELL / 2 + 3}" text-anchor="end">${escapeXml(h.rowLabels[r] ?? '')}</text>`);
    row.forEach((v, c) => {
      const x = ROW_LABEL + c * CELL;
      out.push(`<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${cellColor(v, lo, hi, h.scale)}" stroke="#ffffff" stroke-width="0.5"><title>${escapeXml(`${h.rowLabels[r] ?? r} × ${h.colLabels[c] ?? c}: ${v}`)}</title></rect>`);
      const text = h.cellText?.[r]?.[c];
      if (text !== undefined) {
        const dark = h.scale === 'diverging' ? Math.abs(v) > 0.6 * hi : (v - lo) / (hi - lo) > 0.6;
        out.push(`<text x="${x + CELL / 2}" y="${y + CELL / 2 + 3}" text-anchor="middle" font-size="8" fill="${dark ? '#ffffff' : '#000000'}">${escapeXml(text)}</text>`);
      }
    });
  });
  // Legend: the two ends of the scale (and zero for diverging).
  const ly = HEADER + rows * CELL + 14;
  const steps = 24;
  for (let i = 0; i < steps; i++) {
    const v = lo + ((hi - lo) * (i + 0.5)) / steps;
    out.push(`<rect x="${ROW_LABEL + i * 6}" y="${ly}" width="6" height="10" fill="${cellColor(v, lo, hi, h.scale)}"/>`);
  }
  out.push(`<text x="${ROW_LABEL - 6}" y="${ly + 9}" text-anchor="end">${fmt(lo)}</text>`);
  out.push(`<text x="${ROW_LABEL + steps * 6 + 6}" y="${ly + 9}">${fmt(hi)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(2);
}

/** Several SVGs stacked vertically into one document. */
export function stackSvgs(parts: readonly string[]): string {
  let y = 0;
  let width = 0;
  const groups: string[] = [];
  for (const p of parts) {
    const m = /^<svg [^>]*width="(\d+)" height="(\d+)"[^>]*>\n([\s\S]*)<\/svg>\n?$/.exec(p);
    if (!m) throw new Error('stackSvgs: not an SVG written by heatmapSvg');
    groups.push(`<g transform="translate(0 ${y})">\n${m[3]}</g>`);
    width = Math.max(width, Number(m[1]));
    y += Number(m[2]);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" font-size="10">\n${groups.join('\n')}\n</svg>\n`;
}
