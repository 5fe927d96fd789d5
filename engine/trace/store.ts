import { InspectorError } from '../errors';
import type { AttentionMask } from '../nn/mask';
import type { Tensor } from '../tensor';
import { HeldTensor } from './held';
import { layerOf, layerPath, layerReplay, residPreName, type LayerKey, type LayerReplay } from './replay';
import type { Step, Trace } from './step';
import type { ModelInput, TransformerModel } from '../model/transformer';

/**
 * The trace store: what a recorded forward pass keeps within a byte budget.
 *   Always kept ("pinned"): every block's input residual (`hook_resid_pre`), everything outside the
 *   blocks (embeddings, ln_final, logits) and, for an encoder-decoder model, the encoder output.
 *   Kept while within the budget: every other step of a block, by layer. Past the budget the least
 *   recently used layer is evicted (its tensors and masks dropped), never the layer just computed or
 *   read. Reading an evicted step's tensor (or mask) recomputes that layer only, from its
 *   kept input residual (LayerReplay): stepping back or jumping anywhere never recomputes from the start.
 * Bytes are counted per distinct array: a block's output step (resid_post, or the last norm when post-norm)
 * is the next block's resid_pre, one array, kept with it.
 */

interface Entry {
  readonly name: string;
  readonly tensor: HeldTensor;
  mask: AttentionMask | undefined;
  readonly hasMask: boolean;
  /** Bytes of its tensor and mask when resident. */
  readonly bytes: number;
  pinned: boolean;
  readonly layer: Layer | undefined;
}

interface Layer {
  readonly key: LayerKey;
  readonly entries: Entry[];
  /** Bytes of its own (not pinned) steps when all are resident. */
  bytes: number;
}

export class TraceStore {
  /** Layers by path, least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly layers = new Map<string, Layer>();
  private readonly pinned = new Map<string, Entry>();
  private readonly arrays = new Map<ArrayBufferView, number>();
  private readonly entries = new Map<HeldTensor, Entry>();
  private last: Entry | undefined;
  private memory: Entry | undefined;
  private bytes = 0;
  /** The most bytes one layer's own steps took so far: room made before the next layer is computed. */
  private largestLayer = 0;
  /** Most bytes held at once; layers recomputed; steps those recomputations produced. */
  peakBytes = 0;
  layersRecomputed = 0;
  stepsRecomputed = 0;

  constructor(
    /** Bytes of traced tensors kept; Infinity keeps everything. */
    readonly budget: number,
    private readonly replay: LayerReplay,
  ) {}

  /** Bytes of traced tensors held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Layers whose tensors are held now. */
  get residentLayers(): string[] {
    return [...this.layers.values()]
      .filter((l) => l.entries.some((e) => !e.pinned && e.tensor.resident))
      .map((l) => layerPath(l.key));
  }

  /**
   * Record a pass: each step is handed on with its tensor (and mask) held here. The steps are to be
   * read, not replaced: a replacement would make the replayed layers differ from the first run.
   */
  *record<T>(trace: Generator<Step, T, Tensor | undefined>): Generator<Step, T, Tensor | undefined> {
    for (;;) {
      const r = trace.next();
      if (r.done) return r.value;
      const answer = yield this.add(r.value);
      if (answer !== undefined)
        throw new InspectorError(
          `${r.value.name}: a pass recorded within the trace budget takes no replacements (run an intervention instead)`,
        );
    }
  }

  private add(step: Step): Step {
    const key = layerOf(step.name);
    // A block's output is the next block's input (or ln_final's): one array, kept, so the step before is kept too.
    const kept = !key || step.name === residPreName(key);
    if (kept && this.last && !this.last.pinned && this.last.tensor.resident === step.tensor.data)
      this.pin(this.last);
    // The encoder's output is the last encoder step, what the decoder's cross-attention reads.
    if (
      this.replay.crossAttends &&
      step.name.startsWith('decoder.') &&
      !this.memory &&
      this.last?.name.startsWith('encoder.')
    ) {
      this.memory = this.last;
      void this.last.tensor.data; // restored first if its layer was evicted since
      this.pin(this.last);
    }
    let layer: Layer | undefined;
    if (key) {
      const path = layerPath(key);
      layer = this.layers.get(path);
      if (!layer) {
        layer = { key, entries: [], bytes: 0 };
        this.layers.set(path, layer);
        // Make room for a layer like the largest so far before computing it, not after.
        this.makeRoom(this.largestLayer, layer);
      }
      this.touch(layer);
    }
    const tensor = new HeldTensor(step.tensor.shape, step.tensor.data, (t) => this.restore(t));
    const bytes = tensor.size * 4 + (step.mask?.data.byteLength ?? 0);
    const entry: Entry = {
      name: step.name,
      tensor,
      mask: step.mask,
      hasMask: step.mask !== undefined,
      bytes,
      pinned: kept,
      layer,
    };
    if (layer) {
      layer.entries.push(entry);
      if (!entry.pinned) layer.bytes += bytes;
      this.largestLayer = Math.max(this.largestLayer, layer.bytes);
    }
    if (entry.pinned) this.pinned.set(entry.name, entry);
    this.entries.set(tensor, entry);
    this.makeRoom(bytes, layer);
    this.hold(tensor.data);
    if (entry.mask) this.hold(entry.mask.data);
    this.last = entry;
    this.enforce(layer);
    return this.stepOf(entry, step);
  }

  /** The step handed out: its mask, like its tensor, is restored when read after an eviction. */
  private stepOf(entry: Entry, step: Step): Step {
    const out: { name: string; tensor: Tensor; dims: Step['dims']; observed?: true } = {
      name: step.name,
      tensor: entry.tensor,
      dims: step.dims,
    };
    if (entry.hasMask) {
      Object.defineProperty(out, 'mask', {
        enumerable: true,
        get: () => {
          if (!entry.mask) this.restore(entry.tensor);
          return entry.mask;
        },
      });
    }
    if (step.observed) out.observed = true;
    return out as Step;
  }

  /** Recompute the evicted steps of `t`'s layer from its kept input residual and refill them. */
  private restore(t: HeldTensor): Float32Array {
    const entry = this.entries.get(t);
    const layer = entry?.layer;
    if (!entry || !layer) throw new Error('a kept trace tensor has no values');
    if (layer.entries.some((e) => !e.tensor.resident)) {
      // Evict first, so the replayed layer takes the room of what goes.
      this.makeRoom(
        layer.entries.reduce((n, e) => n + (e.tensor.resident ? 0 : e.bytes), 0),
        layer,
      );
      const residPre = this.pinned.get(residPreName(layer.key));
      if (!residPre) throw new Error(`trace store: ${residPreName(layer.key)} was not kept`);
      const memory = layer.key.prefix === 'decoder.' ? this.memory?.tensor : undefined;
      // Only as many steps as the pass recorded of this layer (fewer while the pass is still in it).
      const steps = this.replay.run(layer.key, residPre.tensor, memory, layer.entries.length);
      this.layersRecomputed++;
      this.stepsRecomputed += steps.length;
      if (steps.length !== layer.entries.length)
        throw new Error(
          `trace store: replaying ${layerPath(layer.key)} gave ${steps.length} steps, the pass ${layer.entries.length}`,
        );
      layer.entries.forEach((e, i) => {
        const s = steps[i];
        if (s.name !== e.name)
          throw new Error(
            `trace store: replaying ${layerPath(layer.key)} gave ${s.name} where the pass had ${e.name}`,
          );
        if (e.tensor.resident) return;
        e.tensor.refill(s.tensor.data);
        this.hold(s.tensor.data);
        e.mask = s.mask;
        if (s.mask) this.hold(s.mask.data);
      });
    }
    this.touch(layer);
    this.enforce(layer);
    return t.data;
  }

  /**
   * Evict least recently used layers until the budget holds, never `keep` (the layer just added to or
   * read). So what is held stays within the budget, or is the pinned steps plus that one layer.
   */
  private enforce(keep?: Layer): void {
    this.peakBytes = Math.max(this.peakBytes, this.bytes);
    this.makeRoom(0, keep);
  }

  /** Evict least recently used layers (never `keep`) until `need` more bytes fit the budget. */
  private makeRoom(need: number, keep?: Layer): void {
    if (this.bytes + need <= this.budget) return;
    for (const layer of this.layers.values()) {
      if (this.bytes + need <= this.budget) break;
      if (layer !== keep) this.evict(layer);
    }
  }

  private pin(e: Entry): void {
    if (e.pinned) return;
    e.pinned = true;
    if (e.layer) e.layer.bytes -= e.bytes;
  }

  private evict(layer: Layer): void {
    for (const e of layer.entries) {
      if (e.pinned) continue;
      const v = e.tensor.resident;
      if (v) this.release(v);
      e.tensor.evict();
      if (e.mask) this.release(e.mask.data);
      e.mask = undefined;
    }
  }

  private touch(layer: Layer): void {
    const path = layerPath(layer.key);
    this.layers.delete(path);
    this.layers.set(path, layer);
  }

  private hold(a: ArrayBufferView): void {
    const n = this.arrays.get(a) ?? 0;
    if (n === 0) this.bytes += a.byteLength;
    this.arrays.set(a, n + 1);
  }

  /** Drop one reference (the bytes stay counted while another step holds the same array). */
  private release(a: ArrayBufferView): void {
    const n = this.arrays.get(a) ?? 0;
    if (n <= 1) {
      this.arrays.delete(a);
      this.bytes -= a.byteLength;
    } else this.arrays.set(a, n - 1);
  }
}

/** `model.forward(input)` recorded within `budget` bytes: the trace to step through, and its store. */
export function boundedForward(
  model: TransformerModel,
  input: ModelInput,
  budget: number,
): { trace: Trace; store: TraceStore } {
  const store = new TraceStore(budget, layerReplay(model, input));
  return { trace: store.record(model.forward(input)), store };
}
