import type { WeightSource } from './weights';

/** The block a weight belongs to, in the naming of every family the engine reads (HF, native, GGUF). */
const LAYER = /(?:^|\.)(?:layers|layer|h|blocks|block|blk)\.(\d+)\./;

/**
 * A weight source that says which layer it is reading — `Reading the weights: layer i of N` — as the
 * model's build asks for each tensor, so a long load of a big checkpoint shows where it is (the forward
 * pass says the same per block: engine/worker/layer-progress.ts). Everything else is the source's own.
 */
export function reportingReads(source: WeightSource, layers: number, report: (message: string) => void): WeightSource {
  let shown = -1;
  return new Proxy(source, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== 'read' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return (name: string) => {
        const m = LAYER.exec(name);
        const layer = m ? Number(m[1]) : -1;
        if (layer > shown && layer < layers) {
          shown = layer;
          report(`Reading the weights: layer ${layer + 1} of ${layers}`);
        }
        return (value as WeightSource['read']).call(target, name);
      };
    },
  });
}
