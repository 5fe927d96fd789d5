/**
 * "layer i of N" for a long forward pass in the extension (the CLI's engine/cli/progress.ts says the same
 * on stderr): the block a step belongs to, from its hook name.
 */

const BLOCK = /^(?:(encoder|decoder)\.)?blocks\.(\d+)\./;

/** `layer 3 of 12` (or `decoder layer 3 of 6`) for a step inside block 2; undefined outside the blocks. */
export function layerOf(name: string, layers: number, decoderLayers?: number): string | undefined {
  const m = BLOCK.exec(name);
  if (!m) return undefined;
  const total = m[1] === 'decoder' ? (decoderLayers ?? layers) : layers;
  return `${m[1] ? `${m[1]} ` : ''}layer ${Number(m[2]) + 1} of ${total}`;
}

/** The progress line of computing one step: `layer i of N: name (step k)`, or the name alone outside the blocks. */
export function stepProgress(name: string, index: number, layers: number, decoderLayers?: number): string {
  const layer = layerOf(name, layers, decoderLayers);
  return `${layer ? `${layer}: ` : ''}${name} (step ${index + 1})`;
}
