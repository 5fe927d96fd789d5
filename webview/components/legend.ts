/**
 * The color legend under a heatmap: a gradient bar over the data's range with min, 0 and max marked,
 * and a "masked out" swatch when some cells are masked.
 */
import { maskStripeColor, pack, type ColorScale, type ThemeColors } from '../color';
import { h, paint, pixelRatio } from '../dom';
import { formatValue } from '../format';
import { rasterize } from '../raster';

export interface LegendProps {
  scale: ColorScale;
  theme: ThemeColors;
  /**
   * Range of the data. A diverging bar spans it (widened to include 0) and marks min, 0 and max; a
   * sequential bar spans the scale's domain.
   */
  min: number;
  max: number;
  masked?: boolean;
  /** e.g. "value", "attention weight". */
  label: string;
}

const BAR_WIDTH = 220;
const BAR_HEIGHT = 10;

export function legend(p: LegendProps): HTMLElement {
  const diverging = p.scale.kind === 'diverging';
  const lo = diverging ? Math.min(p.min, 0) : Math.min(p.min, p.scale.domain[0]);
  const hi = diverging ? Math.max(p.max, 0) : Math.max(p.max, p.scale.domain[1]);
  const span = hi - lo || 1;
  const dpr = pixelRatio();
  const width = Math.round(BAR_WIDTH * dpr);
  const colors = new Uint32Array(width);
  for (let x = 0; x < width; x++) colors[x] = p.scale.color(lo + (span * (x + 0.5)) / width);
  const bar = rasterize({
    rows: 1,
    cols: width,
    cellWidth: 1,
    cellHeight: Math.round(BAR_HEIGHT * dpr),
    colorOf: (i) => colors[i],
  });
  const canvas = h('canvas', { class: 'legend-bar', attrs: { 'aria-hidden': 'true' } });
  paint(canvas, bar.width, bar.height, bar.pixels);
  canvas.style.width = `${BAR_WIDTH}px`;
  canvas.style.height = `${BAR_HEIGHT}px`;

  const ticks = h('div', { class: 'legend-ticks' });
  ticks.style.width = `${BAR_WIDTH}px`;
  const zeroAt = (0 - lo) / span;
  if (diverging && zeroAt > 0.04 && zeroAt < 0.96) {
    const zero = h('span', { class: 'legend-zero', text: '0' });
    zero.style.left = `${zeroAt * 100}%`;
    ticks.append(zero);
  }
  const ends = diverging
    ? [`min ${formatValue(p.min)}`, `max ${formatValue(p.max)}`]
    : [formatValue(p.scale.domain[0]), formatValue(p.scale.domain[1])];

  const scaleText = diverging
    ? `diverging, centred on 0, ±${formatValue(p.scale.domain[1])}`
    : `${formatValue(p.scale.domain[0])} to ${formatValue(p.scale.domain[1])}`;
  const root = h(
    'div',
    { class: 'legend', attrs: { role: 'group', 'aria-label': `Color legend: ${p.label}, ${scaleText}` } },
    h('span', { class: 'legend-label', text: p.label }),
    h('span', { class: 'legend-end', text: ends[0] }),
    h('div', { class: 'legend-scale' }, canvas, ticks),
    h('span', { class: 'legend-end', text: ends[1] }),
  );
  if (p.masked) root.append(maskedSwatch(p.theme));
  return root;
}

/** A hatched square and the words "masked out". */
export function maskedSwatch(theme: ThemeColors): HTMLElement {
  const dpr = pixelRatio();
  const side = Math.round(14 * dpr);
  const r = rasterize({
    rows: 1,
    cols: 1,
    cellWidth: side,
    cellHeight: side,
    colorOf: () => 0,
    isMasked: () => true,
    maskStripe: pack(maskStripeColor(theme)),
    maskBase: pack(theme.neutral),
  });
  const canvas = h('canvas', { class: 'legend-swatch', attrs: { 'aria-hidden': 'true' } });
  paint(canvas, r.width, r.height, r.pixels);
  return h('span', { class: 'legend-masked' }, canvas, h('span', { text: 'masked out' }));
}
