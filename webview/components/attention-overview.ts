/**
 * The layers × heads overview: every attention pattern of the pass at once, one small heatmap per
 * head (rows = layers, columns = heads), pooled by the engine. Clicking one opens that layer's
 * pattern step with the head enlarged. Patterns share the 0–1 scale, so heads compare at a glance.
 */
import type { AttentionOverview } from '../../protocol/webview';
import type { ColorScale, ThemeColors } from '../color';
import { h } from '../dom';
import { formatValue } from '../format';
import type { Grid } from '../raster';
import { heatmap } from './heatmap';

/** Tile size for `heads` columns in `width` px: as large as fits, between 28 and 120 px. */
export function overviewTile(heads: number, width: number): number {
  const labels = 72;
  const gap = 6;
  return Math.max(28, Math.min(120, Math.floor((width - labels - gap * heads) / Math.max(1, heads))));
}

/** A short name for a pattern hook: `blocks.3.attn.hook_pattern` → "L3", decoder cross-attention too. */
export function layerLabel(name: string): string {
  const layer = /(\d+)/.exec(name)?.[1];
  const side = name.startsWith('decoder.') ? 'D' : name.startsWith('encoder.') ? 'E' : 'L';
  const cross = name.includes('cross') ? '×' : '';
  return layer !== undefined ? `${side}${layer}${cross}` : name;
}

export function attentionOverview(
  overview: AttentionOverview,
  scale: ColorScale,
  theme: ThemeColors,
  width: number,
  current: { name: string; head: number },
  onOpen: (name: string, head: number) => void,
): HTMLElement {
  const heads = Math.max(1, ...overview.layers.map((l) => l.heads));
  const tile = overviewTile(heads, width);
  const header = h(
    'div',
    { class: 'overview-row overview-header', attrs: { 'aria-hidden': 'true' } },
    h('span', { class: 'overview-layer' }),
    ...Array.from({ length: heads }, (_, i) => {
      const label = h('span', { class: 'overview-head-label', text: `H${i}` });
      label.style.width = `${tile}px`;
      return label;
    }),
  );
  const rows = overview.layers.map((layer) => {
    const cell = Math.max(1, tile / Math.max(layer.rows, layer.cols));
    const size = layer.rows * layer.cols;
    const buttons = Array.from({ length: layer.heads }, (_, head) => {
      const values = layer.data.subarray(head * size, (head + 1) * size);
      const grid: Grid = {
        rows: layer.rows,
        cols: layer.cols,
        data: values,
        rowBands: Array.from({ length: layer.rows + 1 }, (_, i) => i),
        colBands: Array.from({ length: layer.cols + 1 }, (_, i) => i),
      };
      const selected = layer.name === current.name && head === current.head;
      return h(
        'button',
        {
          class: `overview-tile${selected ? ' selected' : ''}`,
          attrs: {
            type: 'button',
            'aria-label': `${layer.name}, head ${head}`,
            title: `${layer.name} · head ${head}: click to open`,
            'data-testid': 'overview-tile',
            'data-hook': layer.name,
            'data-head': head,
          },
          on: { click: () => onOpen(layer.name, head) },
        },
        heatmap({
          grid,
          theme,
          colorOf: scale.color,
          cellWidth: cell,
          cellHeight: cell,
          describe: (c) => [
            `${layer.name} · head ${head}`,
            `mean weight ${formatValue(c.value)} in this block`,
          ],
          ariaLabel: `Head ${head} of ${layer.name}`,
        }),
      );
    });
    return h(
      'div',
      { class: 'overview-row' },
      h('span', { class: 'overview-layer', text: layerLabel(layer.name), attrs: { title: layer.name } }),
      ...buttons,
    );
  });
  return h(
    'div',
    {
      class: 'attention-overview',
      attrs: {
        'data-testid': 'attention-overview',
        role: 'group',
        'aria-label': `${overview.layers.length} layers × ${heads} heads`,
      },
    },
    header,
    ...rows,
  );
}
