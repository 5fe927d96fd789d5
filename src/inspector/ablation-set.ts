/**
 * The parts to ablate, chosen from the sidebar tree ("Add to Ablation" / "Remove from Ablation" on head,
 * MLP and block nodes) or by clicking heads in the detector grid: heads as `layer.head`, MLPs and whole
 * layers by layer. The host keeps the one set and sends it to the panel, whose Ablation view shows it and
 * runs the ablation with it. Plain data, no vscode: tested in test/unit.
 */
import type { ModelNode } from '../../protocol/tree';

/** One part of the model an ablation removes. */
export type AblationPart = { kind: 'head'; layer: number; head: number } | { kind: 'mlp'; layer: number } | { kind: 'layer'; layer: number };

/** What the panel shows and sends: heads as `layer.head`, MLP and layer indices, each sorted. */
export interface AblationChoice {
  heads: string[];
  mlps: number[];
  layers: number[];
}

/**
 * The part a tree node stands for, or why it has none. Only the stack that makes the logits is ablated
 * (a single stack, or an encoder-decoder model's decoder); cross-attention heads are not.
 */
export function partOfNode(node: Pick<ModelNode, 'id' | 'kind'>): AblationPart | string {
  const m = /^(encoder\.|decoder\.)?blocks\.(\d+)(?:\.(attn|mlp|cross_attn)(?:#head(\d+))?)?$/.exec(node.id);
  if (!m) return `${node.id} is not a head, an MLP or a layer`;
  if (m[1] === 'encoder.') return 'ablation removes parts of the decoder (the stack that makes the logits), not of the encoder';
  const layer = Number(m[2]);
  if (node.kind === 'head' && m[3] === 'attn' && m[4] !== undefined) return { kind: 'head', layer, head: Number(m[4]) };
  if (node.kind === 'mlp' && m[3] === 'mlp') return { kind: 'mlp', layer };
  if (node.kind === 'block' && m[3] === undefined) return { kind: 'layer', layer };
  return `${node.id}: choose a self-attention head, an MLP or a whole layer`;
}

export function partLabel(p: AblationPart): string {
  return p.kind === 'head' ? `L${p.layer} H${p.head}` : p.kind === 'mlp' ? `MLP ${p.layer}` : `layer ${p.layer}`;
}

const keyOf = (p: AblationPart) => (p.kind === 'head' ? `head:${p.layer}.${p.head}` : `${p.kind}:${p.layer}`);

export class AblationSet {
  private readonly parts = new Map<string, AblationPart>();

  has(p: AblationPart): boolean {
    return this.parts.has(keyOf(p));
  }

  /** Add or remove one part; true when the set changed. */
  set(p: AblationPart, on: boolean): boolean {
    const key = keyOf(p);
    if (on === this.parts.has(key)) return false;
    if (on) this.parts.set(key, p);
    else this.parts.delete(key);
    return true;
  }

  /** Replace the whole set by the panel's (its detector grid toggles heads); true when it changed. */
  replace(choice: AblationChoice): boolean {
    const before = JSON.stringify(this.choice());
    this.parts.clear();
    for (const k of choice.heads) {
      const m = /^(\d+)\.(\d+)$/.exec(k);
      if (m) this.set({ kind: 'head', layer: Number(m[1]), head: Number(m[2]) }, true);
    }
    for (const layer of choice.mlps) this.set({ kind: 'mlp', layer }, true);
    for (const layer of choice.layers) this.set({ kind: 'layer', layer }, true);
    return JSON.stringify(this.choice()) !== before;
  }

  clear(): boolean {
    const had = this.parts.size > 0;
    this.parts.clear();
    return had;
  }

  get size(): number {
    return this.parts.size;
  }

  choice(): AblationChoice {
    const all = [...this.parts.values()];
    const heads = all.filter((p): p is Extract<AblationPart, { kind: 'head' }> => p.kind === 'head').sort((a, b) => a.layer - b.layer || a.head - b.head);
    const byLayer = (kind: 'mlp' | 'layer') => all.filter((p) => p.kind === kind).map((p) => p.layer).sort((a, b) => a - b);
    return { heads: heads.map((p) => `${p.layer}.${p.head}`), mlps: byLayer('mlp'), layers: byLayer('layer') };
  }

  /** The set in words, for messages: "L2 H1, MLP 0, layer 1". */
  describe(): string {
    const c = this.choice();
    return [...c.heads.map((k) => `L${k.replace('.', ' H')}`), ...c.mlps.map((l) => `MLP ${l}`), ...c.layers.map((l) => `layer ${l}`)].join(', ');
  }
}
