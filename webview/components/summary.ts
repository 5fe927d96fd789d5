/**
 * Summary statistics (min, max, mean, std) and the value histogram of a step.
 */
import type { TensorStats } from '../../protocol/webview';
import { pack, type ColorScale, type ThemeColors } from '../color';
import { h, paint, pixelRatio } from '../dom';
import { formatValue, thousands } from '../format';
import { barAt, histogramLayout } from '../stats';
import { hideTooltip, showTooltip } from './tooltip';

export function statsList(stats: TensorStats, note?: string): HTMLElement {
  const item = (name: string, value: number) =>
    h(
      'div',
      { class: 'stat' },
      h('dt', { text: name }),
      h('dd', { text: formatValue(value), attrs: { title: String(value) } }),
    );
  const list = h(
    'dl',
    { class: 'stats', attrs: { 'aria-label': 'Summary statistics' } },
    item('min', stats.min),
    item('max', stats.max),
    item('mean', stats.mean),
    item('std', stats.std),
  );
  return note ? h('div', {}, list, h('p', { class: 'hint', text: note })) : list;
}

const WIDTH = 280;
const HEIGHT = 72;
/** The strip under the bars showing each bin's color on the heatmap's scale. */
const STRIP = 6;

/**
 * Histogram bars in the theme's quiet foreground (so bins near 0 stay visible on any background),
 * over a strip colored like the heatmap, with the range below and a hover count per bin.
 */
export function histogramView(
  histogram: TensorStats['histogram'],
  scale: ColorScale,
  theme: ThemeColors,
  title = 'Distribution of values',
  /** Counts on a log scale, with a switch to change it (the caller re-renders). */
  log?: { on: boolean; toggle: (on: boolean) => void },
): HTMLElement {
  const dpr = pixelRatio();
  const w = Math.round(WIDTH * dpr);
  const plotHeight = Math.round(HEIGHT * dpr);
  const strip = Math.round(STRIP * dpr);
  const gap = Math.round(2 * dpr);
  const hgt = plotHeight + gap + strip;
  const bars = histogramLayout(histogram, w, plotHeight, log?.on ?? false);
  const pixels = new Uint8ClampedArray(w * hgt * 4);
  const words = new Uint32Array(pixels.buffer);
  const ink = pack(theme.ink);
  for (const bar of bars) {
    for (let y = plotHeight - bar.height; y < plotHeight; y++)
      words.fill(ink, y * w + bar.x, y * w + bar.x + bar.width);
  }
  const lo = histogram.edges[0] ?? 0;
  const hi = histogram.edges[histogram.edges.length - 1] ?? 0;
  for (let x = 0; x < w; x++) {
    const color = scale.color(lo + ((hi - lo) * (x + 0.5)) / w);
    for (let y = plotHeight + gap; y < hgt; y++) words[y * w + x] = color;
  }
  const canvas = h('canvas', { class: 'histogram-canvas', attrs: { role: 'img', 'aria-label': title } });
  paint(canvas, w, hgt, pixels);
  canvas.style.width = `${WIDTH}px`;
  canvas.style.height = `${HEIGHT + 2 + STRIP}px`;
  canvas.addEventListener('mousemove', (e) => {
    const rect = canvas.getBoundingClientRect();
    const i = barAt(bars, ((e.clientX - rect.left) / rect.width) * w);
    if (e.clientY - rect.top > HEIGHT) return hideTooltip();
    if (i === undefined) return hideTooltip();
    const b = bars[i];
    showTooltip(e.clientX, e.clientY, [
      `${thousands(b.count)} ${b.count === 1 ? 'value' : 'values'}`,
      `in [${formatValue(b.from)}, ${formatValue(b.to)})`,
    ]);
  });
  canvas.addEventListener('mouseleave', hideTooltip);

  const axis = h(
    'div',
    { class: 'histogram-axis' },
    h('span', { text: formatValue(lo) }),
    h('span', { text: formatValue(hi) }),
  );
  axis.style.width = `${WIDTH}px`;
  const plot = h('div', { class: 'histogram-plot' }, canvas);
  if (lo < 0 && hi > 0) {
    const zero = h('div', { class: 'histogram-zero', attrs: { title: '0' } });
    zero.style.left = `${((0 - lo) / (hi - lo)) * 100}%`;
    plot.append(zero);
  }
  const total = histogram.counts.reduce((a, b) => a + b, 0);
  return h(
    'figure',
    { class: 'histogram' },
    h(
      'figcaption',
      { class: 'histogram-caption' },
      h('span', {
        text: `${title} (${thousands(total)} values, ${histogram.counts.length} bins${log?.on ? ', log counts' : ''})`,
      }),
      log
        ? h(
            'label',
            { class: 'histogram-log' },
            h('input', {
              attrs: { type: 'checkbox', checked: log.on, 'data-testid': 'log-counts' },
              on: { change: (e) => log.toggle((e.target as HTMLInputElement).checked) },
            }),
            'log counts',
          )
        : null,
    ),
    plot,
    axis,
  );
}
