import { InspectorError } from '../errors';
import type { AttentionMask } from '../nn/mask';
import type { Tensor } from '../tensor';
import { downsample } from '../analyses/tiles';
import type { Window } from '../../protocol/analyses';
import type { AttentionWindow } from '../../protocol/worker';

/**
 * Zoom and pan on a long attention step: the visible window of one head's query × key grid, at
 * full resolution when it fits `cells` × `cells`, else max-pooled (engine/analyses/tiles.ts), with a
 * mask tile (1 where any entry of the cell is attended). What the panel gets is never bigger than
 * what it draws: at most cells² values however long the input.
 */

/** The largest tile side the panel may ask for. */
export const MAX_WINDOW_CELLS = 1024;

export function attentionWindow(name: string, tensor: Tensor, mask: AttentionMask | undefined, head: number, window: Window, cells: number): AttentionWindow {
  const [, heads, queries, keys] = tensor.shape as [number, number, number, number];
  if (tensor.shape.length !== 4) throw new InspectorError(`${name} is not an attention step (shape [${tensor.shape.join(', ')}])`);
  if (!(Number.isInteger(head) && head >= 0 && head < heads)) throw new InspectorError(`${name} has ${heads} heads; there is no head ${head}`);
  const side = Math.max(1, Math.min(MAX_WINDOW_CELLS, Math.floor(cells)));
  const grid = tensor.data.subarray(head * queries * keys, (head + 1) * queries * keys); // (query, key) of batch 0
  const tile = downsample(grid, queries, keys, window, side, side, 'max');
  let tileMask: Uint8Array | undefined;
  if (mask) {
    const m = mask.data; // (query, key) of batch 0, shared by every head
    const out = new Uint8Array(tile.rows * tile.cols);
    let any0 = false;
    for (let r = window.row0; r < window.row1; r++) {
      const o = Math.floor((r - window.row0) / tile.rowStep) * tile.cols;
      for (let c = window.col0; c < window.col1; c++) {
        if (m[r * keys + c] === 0) continue;
        out[o + Math.floor((c - window.col0) / tile.colStep)] = 1;
      }
    }
    for (let i = 0; i < out.length && !any0; i++) any0 = out[i] === 0;
    if (any0) tileMask = out;
  }
  return { kind: 'attentionWindow', name, head, queries, keys, tile: { rows: tile.rows, cols: tile.cols, rowStep: tile.rowStep, colStep: tile.colStep, window: tile.window, data: tile.data }, ...(tileMask ? { mask: tileMask } : {}) };
}
