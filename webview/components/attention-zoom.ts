/**
 * Zoom and pan for long attention steps (when the engine pooled the grid): one canvas showing a
 * window of the selected head. It draws at once from the best data at hand — the engine's tile of
 * the window when it covers it, else the pooled grid of the step — and asks the host (debounced)
 * for the window at the resolution it is drawn at, never more. Wheel or +/− zoom, drag or arrows
 * pan, 0 resets. Persistent across re-renders (the App keeps one), so a pan never rebuilds the view.
 */
import type { Window } from '../../protocol/analyses';
import type { AttentionView, AttentionWindowTile } from '../../protocol/webview';
import { maskStripeColor, pack, type ColorScale, type ThemeColors } from '../color';
import { h, paint, pixelRatio } from '../dom';
import { formatValue } from '../format';
import { hideTooltip, showTooltip } from './tooltip';
import { axisIndex, contains, fullWindow, panBy, sameWindow, zoomAt, type Sampled } from './zoom-window';

/** Quiet time after the last zoom or pan before the sharper tile is asked for. */
const REQUEST_DELAY_MS = 90;

export class AttentionZoom {
  private readonly canvas = h('canvas', {
    class: 'zoom-canvas',
    attrs: { role: 'img', 'data-testid': 'attention-zoom-canvas' },
  });
  private readonly caption = h('span', {
    class: 'hint zoom-caption',
    attrs: { 'data-testid': 'zoom-caption' },
  });
  private readonly root: HTMLElement;
  private view?: AttentionView;
  private name = '';
  private head = 0;
  private scale?: ColorScale;
  private theme?: ThemeColors;
  private side = 512;
  private win: Window = fullWindow(1, 1);
  private tile?: AttentionWindowTile;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private frame = 0;
  private drag?: { x: number; y: number; win: Window };
  /** Drawing times in ms (the e2e and dev checks read them from data-last-draw-ms). */
  lastDrawMs = 0;

  constructor(private readonly request: (head: number, window: Window, cells: number) => void) {
    const zoom = (f: number) => () => this.setWindow(zoomAt(this.win, this.rows, this.cols, f));
    const bar = h(
      'div',
      { class: 'zoom-bar' },
      h('button', {
        class: 'tk-button tk-button-secondary',
        text: '+',
        attrs: { type: 'button', 'aria-label': 'Zoom in', 'data-testid': 'zoom-in' },
        on: { click: zoom(2) },
      }),
      h('button', {
        class: 'tk-button tk-button-secondary',
        text: '−',
        attrs: { type: 'button', 'aria-label': 'Zoom out', 'data-testid': 'zoom-out' },
        on: { click: zoom(0.5) },
      }),
      h('button', {
        class: 'tk-button tk-button-secondary',
        text: 'Whole grid',
        attrs: { type: 'button', 'data-testid': 'zoom-reset' },
        on: { click: () => this.setWindow(fullWindow(this.rows, this.cols)) },
      }),
      this.caption,
    );
    const surface = h(
      'div',
      {
        class: 'zoom-surface',
        attrs: {
          tabindex: 0,
          'data-composite': '',
          'data-testid': 'attention-zoom',
          'aria-label': 'Attention grid: + and − zoom, arrows pan, 0 shows the whole grid',
        },
      },
      this.canvas,
    );
    surface.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    surface.addEventListener('keydown', (e) => this.onKey(e));
    this.canvas.addEventListener('pointerdown', (e) => {
      this.drag = { x: e.clientX, y: e.clientY, win: this.win };
      this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener('pointermove', (e) => this.onMove(e));
    this.canvas.addEventListener('pointerup', () => (this.drag = undefined));
    this.canvas.addEventListener('mouseleave', hideTooltip);
    this.root = h('div', { class: 'attention-zoom' }, bar, surface);
  }

  private get rows(): number {
    return this.view?.pooled?.queries ?? this.view?.queries ?? 1;
  }
  private get cols(): number {
    return this.view?.pooled?.keys ?? this.view?.keys ?? 1;
  }

  /** The element for this step and head (the same element each time; the window is kept for the same step). */
  element(
    name: string,
    view: AttentionView,
    head: number,
    scale: ColorScale,
    theme: ThemeColors,
    width: number,
  ): HTMLElement {
    const sameGrid =
      this.view !== undefined &&
      this.name === name &&
      this.rows === (view.pooled?.queries ?? view.queries) &&
      this.cols === (view.pooled?.keys ?? view.keys);
    const headChanged = head !== this.head;
    this.view = view;
    this.name = name;
    this.head = head;
    this.scale = scale;
    this.theme = theme;
    this.side = Math.max(160, Math.min(720, Math.floor(width)));
    if (!sameGrid) this.win = fullWindow(this.rows, this.cols);
    if (!sameGrid || headChanged) this.tile = undefined;
    this.draw();
    if (!sameWindow(this.win, fullWindow(this.rows, this.cols))) this.schedule();
    return this.root;
  }

  /** A tile arrived from the host: drawn when it is for this step and head. */
  setTile(tile: AttentionWindowTile | undefined): void {
    if (!tile || tile.name !== this.name || tile.head !== this.head) return;
    this.tile = tile;
    this.queueDraw();
  }

  private setWindow(w: Window): void {
    if (sameWindow(w, this.win)) return;
    this.win = w;
    this.queueDraw();
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.view) return;
      // Cells asked for: what the canvas draws along each side (device pixels), never more.
      const cells = Math.min(1024, Math.round(this.side * pixelRatio()));
      this.request(this.head, this.win, cells);
    }, REQUEST_DELAY_MS);
  }

  private queueDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** The data to draw the window from: the tile when it covers the window, else the pooled grid. */
  private source(): Sampled {
    const t = this.tile;
    if (t && contains(t.tile.window, this.win)) {
      const { rows, cols, rowStep, colStep, data, window } = t.tile;
      return { data, mask: t.mask, rows, cols, rowStep, colStep, row0: window.row0, col0: window.col0 };
    }
    const v = this.view!;
    const size = v.queries * v.keys;
    return {
      data: v.data.subarray(this.head * size, (this.head + 1) * size),
      mask: v.mask,
      rows: v.queries,
      cols: v.keys,
      rowStep: v.pooled?.queryTile ?? 1,
      colStep: v.pooled?.keyTile ?? 1,
      row0: 0,
      col0: 0,
    };
  }

  private draw(): void {
    if (!this.view || !this.scale || !this.theme) return;
    const started = performance.now();
    const dpr = pixelRatio();
    const W = Math.round(this.side * dpr);
    const s = this.source();
    const xs = axisIndex(W, this.win.col0, this.win.col1, s.col0, s.colStep, s.cols);
    const ys = axisIndex(W, this.win.row0, this.win.row1, s.row0, s.rowStep, s.rows);
    const pixels = new Uint8ClampedArray(W * W * 4);
    const words = new Uint32Array(pixels.buffer);
    const stripe = pack(maskStripeColor(this.theme));
    const base = pack(this.theme.neutral);
    const color = this.scale.color;
    for (let y = 0; y < W; y++) {
      const r = ys[y] * s.cols;
      for (let x = 0; x < W; x++) {
        const i = r + xs[x];
        words[y * W + x] = s.mask && s.mask[i] === 0 ? ((x + y) % 8 < 2 ? stripe : base) : color(s.data[i]);
      }
    }
    paint(this.canvas, W, W, pixels);
    this.canvas.style.width = `${this.side}px`;
    this.canvas.style.height = `${this.side}px`;
    const zoom = this.rows / (this.win.row1 - this.win.row0);
    const sharp =
      s.rowStep === 1 && s.colStep === 1
        ? 'full resolution'
        : `each cell the max of ${s.rowStep} × ${s.colStep}`;
    this.caption.textContent = `queries ${this.win.row0}–${this.win.row1 - 1} · keys ${this.win.col0}–${this.win.col1 - 1} · ×${formatValue(zoom, 3)} · ${sharp}`;
    this.canvas.setAttribute('aria-label', `Head ${this.head}, ${this.caption.textContent}`);
    this.lastDrawMs = performance.now() - started;
    this.root.dataset.lastDrawMs = this.lastDrawMs.toFixed(1);
    this.root.dataset.window = `${this.win.row0},${this.win.row1},${this.win.col0},${this.win.col1}`;
    this.root.dataset.resolution = `${s.rowStep}x${s.colStep}`;
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    const fx = (e.clientX - r.left) / r.width;
    const fy = (e.clientY - r.top) / r.height;
    this.setWindow(zoomAt(this.win, this.rows, this.cols, e.deltaY < 0 ? 1.25 : 0.8, fx, fy));
  }

  private onKey(e: KeyboardEvent): void {
    const pans: Record<string, [number, number]> = {
      ArrowLeft: [-0.1, 0],
      ArrowRight: [0.1, 0],
      ArrowUp: [0, -0.1],
      ArrowDown: [0, 0.1],
    };
    let next: Window | undefined;
    if (e.key in pans) next = panBy(this.win, this.rows, this.cols, ...pans[e.key]);
    else if (e.key === '+' || e.key === '=') next = zoomAt(this.win, this.rows, this.cols, 2);
    else if (e.key === '-') next = zoomAt(this.win, this.rows, this.cols, 0.5);
    else if (e.key === '0') next = fullWindow(this.rows, this.cols);
    if (!next) return;
    e.preventDefault();
    e.stopPropagation();
    this.setWindow(next);
  }

  private onMove(e: PointerEvent): void {
    const r = this.canvas.getBoundingClientRect();
    if (this.drag) {
      const d = this.drag;
      this.setWindow(
        panBy(d.win, this.rows, this.cols, -(e.clientX - d.x) / r.width, -(e.clientY - d.y) / r.height),
      );
      return;
    }
    const q = Math.floor(this.win.row0 + ((e.clientY - r.top) / r.height) * (this.win.row1 - this.win.row0));
    const k = Math.floor(this.win.col0 + ((e.clientX - r.left) / r.width) * (this.win.col1 - this.win.col0));
    const s = this.source();
    const i =
      Math.min(s.rows - 1, Math.floor((q - s.row0) / s.rowStep)) * s.cols +
      Math.min(s.cols - 1, Math.floor((k - s.col0) / s.colStep));
    const value = s.data[i];
    const masked = s.mask && s.mask[i] === 0;
    showTooltip(e.clientX, e.clientY, [
      `head ${this.head} · query ${q} → key ${k}`,
      masked
        ? 'masked out'
        : `${s.rowStep * s.colStep > 1 ? `max over ${s.rowStep} × ${s.colStep}: ` : ''}${formatValue(value)}`,
    ]);
  }
}
