/**
 * An analysis view written out: its main matrix as a figure (SVG, vector, through
 * engine/analyses/svg.ts; or PNG, one block of pixels per cell) and its data (.npy of the matrix,
 * or JSON of the whole view with the labels). No `vscode`; unit-tested.
 */
import { deflateSync } from 'node:zlib';
import type { AnalysisReply, AnalysisRequest } from '../../protocol/analyses';
import { cellColor, heatmapSvg, stackSvgs, type HeatmapSvg } from '../../engine/analyses/svg';
import { encodeNpy } from '../../engine/worker/export';

export type ExportFormat = 'svg' | 'png' | 'npy' | 'json';

/** The matrices of a view as heatmaps (the lens: top probability with the top token in each cell). */
export function analysisHeatmaps(reply: AnalysisReply, tokens: readonly string[]): HeatmapSvg[] {
  const labels = new Map(reply.labels);
  const label = (id: number) => labels.get(id) ?? `#${id}`;
  const v = reply.view;
  const positions = (n: number) => Array.from({ length: n }, (_, t) => tokens[t] ?? String(t));
  switch (v.analysis) {
    case 'lens': {
      const rows = v.hooks.map((_, d) => Array.from({ length: v.positions }, (_, t) => v.topProbs[(d * v.positions + t) * v.k]));
      const text = v.hooks.map((_, d) => Array.from({ length: v.positions }, (_, t) => label(v.topIds[(d * v.positions + t) * v.k])));
      return [{ title: 'Logit lens: top token and its probability', values: rows, cellText: text, rowLabels: v.hooks, colLabels: positions(v.positions), scale: 'sequential', min: 0, max: 1 }];
    }
    case 'attribution':
      return [{
        title: `Direct logit attribution to ${label(v.target)}${v.versus !== undefined ? ` − ${label(v.versus)}` : ''} at position ${v.position}`,
        values: v.components.map((c) => [c.value]),
        rowLabels: v.components.map((c) => c.name),
        colLabels: ['contribution'],
        scale: 'diverging',
      }];
    case 'heads':
      return (['previous_token', 'duplicate_token', 'induction'] as const).map((key) => ({
        title: `${key.replace('_', '-')} score, layers × heads`,
        values: v[key],
        rowLabels: v[key].map((_, l) => `layer ${l}`),
        colLabels: (v[key][0] ?? []).map((_, hd) => `H${hd}`),
        scale: 'sequential' as const,
        min: 0,
        max: 1,
      }));
    case 'ablation':
      return [{
        title: `Ablating ${v.replaced.join(', ')}: top token probability before and after`,
        values: v.top.map((p) => [p.before[0]?.prob ?? NaN, p.after.find((x) => x.id === p.before[0]?.id)?.prob ?? 0]),
        cellText: v.top.map((p) => [label(p.before[0]?.id ?? -1), label(p.after[0]?.id ?? -1)]),
        rowLabels: v.top.map((p) => `${p.position} ${tokens[p.position] ?? ''}`),
        colLabels: ['before', 'after'],
        scale: 'sequential',
        min: 0,
        max: 1,
      }];
    case 'patching':
      return [{
        title: `Activation patching (${v.what}): 0 = corrupted, 1 = clean`,
        values: Array.from({ length: v.rows }, (_, r) => Array.from(v.values.subarray(r * v.cols, (r + 1) * v.cols))),
        rowLabels: v.hooks,
        colLabels: v.what === 'heads' ? Array.from({ length: v.cols }, (_, i) => `H${i}`) : positions(v.cols),
        scale: 'diverging',
        min: -1,
        max: 1,
      }];
    case 'rollout':
      return v.tiles.map((t, l) => ({
        title: `Attention rollout after layer ${l}`,
        values: Array.from({ length: t.rows }, (_, r) => Array.from(t.data.subarray(r * t.cols, (r + 1) * t.cols))),
        rowLabels: Array.from({ length: t.rows }, (_, r) => String(v.window.row0 + r * t.rowStep)),
        colLabels: Array.from({ length: t.cols }, (_, c) => String(v.window.col0 + c * t.colStep)),
        scale: 'sequential' as const,
        min: 0,
        max: 1,
      }));
  }
}

/** The view's data as JSON: typed arrays as lists, non-finite numbers as strings, the request beside it. */
export function analysisJson(request: AnalysisRequest, reply: AnalysisReply): Uint8Array {
  const text = JSON.stringify({ request, ...reply }, (_, v: unknown) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v;
  }, 1);
  return new TextEncoder().encode(text + '\n');
}

/** The main matrix as .npy: the first heatmap's values (several, like the three detectors, stacked). */
export function analysisNpy(maps: readonly HeatmapSvg[]): Uint8Array {
  const rows = maps[0]?.values.length ?? 0;
  const cols = Math.max(0, ...maps.flatMap((m) => m.values.map((r) => r.length)));
  const data = new Float32Array(maps.length * rows * cols).fill(NaN);
  maps.forEach((m, i) => m.values.forEach((r, y) => r.forEach((x, c) => (data[(i * rows + y) * cols + c] = x))));
  return encodeNpy(maps.length > 1 ? [maps.length, rows, cols] : [rows, cols], data);
}

export function analysisSvg(maps: readonly HeatmapSvg[]): string {
  return maps.length === 1 ? heatmapSvg(maps[0]) : stackSvgs(maps.map(heatmapSvg));
}

// ---- PNG: one `cell`-pixel block per value, the SVG's colours, maps stacked with a gap ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An RGB PNG of `width` × `height` pixels from `rgb` (3 bytes a pixel, row-major). */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const raw = new Uint8Array((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1); // filter 0
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter, no interlace
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function analysisPng(maps: readonly HeatmapSvg[], cell = 12, gap = 12): Uint8Array {
  const cols = Math.max(1, ...maps.flatMap((m) => m.values.map((r) => r.length)));
  const width = cols * cell;
  const height = maps.reduce((a, m) => a + m.values.length * cell, 0) + gap * Math.max(0, maps.length - 1);
  const rgb = new Uint8Array(width * height * 3).fill(255);
  let top = 0;
  for (const m of maps) {
    const finite = m.values.flat().filter(Number.isFinite);
    const hi = m.max ?? Math.max(1e-12, ...finite.map(Math.abs));
    const lo = m.scale === 'diverging' ? -(m.min === undefined ? hi : Math.abs(m.min)) : (m.min ?? Math.min(0, ...finite));
    m.values.forEach((row, r) =>
      row.forEach((x, c) => {
        const [R, G, B] = /rgb\((\d+),(\d+),(\d+)\)/.exec(cellColor(x, lo, hi, m.scale))?.slice(1).map(Number) ?? [204, 204, 204];
        for (let y = 0; y < cell; y++)
          for (let xx = 0; xx < cell; xx++) rgb.set([R, G, B], ((top + r * cell + y) * width + c * cell + xx) * 3);
      }),
    );
    top += m.values.length * cell + gap;
  }
  return encodePng(width, height, rgb);
}

/** The bytes of one export of a view. */
export function exportAnalysis(format: ExportFormat, request: AnalysisRequest, reply: AnalysisReply, tokens: readonly string[]): Uint8Array {
  if (format === 'json') return analysisJson(request, reply);
  const maps = analysisHeatmaps(reply, tokens);
  if (format === 'npy') return analysisNpy(maps);
  if (format === 'png') return analysisPng(maps);
  return new TextEncoder().encode(analysisSvg(maps));
}
