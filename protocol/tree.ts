/**
 * The model as a tree for the sidebar, as the engine worker sends it to the host: plain data, no
 * engine types. Built by engine/worker/tree.ts; shown by src/sidebar.
 */
export type NodeKind = 'model' | 'stack' | 'embeddings' | 'embedding' | 'positions' | 'block' | 'attention' | 'head' | 'mlp' | 'norm' | 'lm_head';

/** Where selecting a node takes the stepper: one hook, or the preferred step of a module. */
export type Reveal = { to: 'hook'; name: string } | { to: 'module'; path: string; prefer: string[] };

export interface ModelNode {
  /** Unique within the tree, e.g. `blocks.0.attn` or `blocks.0.attn#head1`. */
  id: string;
  label: string;
  kind: NodeKind;
  /** Shapes and variant, e.g. `2 heads × 8` or `16 → 32 → 16, ReLU`. */
  detail: string;
  /** Parameters first allocated in this subtree. */
  parameters: number;
  note?: string;
  /** This node's own tensors, by weight name. */
  tensors: { name: string; shape: number[] }[];
  /** Steps whose hook name starts with `hookPath + '.'` belong to this node (e.g. `blocks.0.attn`). */
  hookPath?: string;
  reveal?: Reveal;
  children: ModelNode[];
}

/** The deepest node a step belongs to (by hook path, or as the hook it reveals); undefined if none. */
export function nodeForStep(root: ModelNode, stepName: string): ModelNode | undefined {
  let best: ModelNode | undefined;
  const visit = (n: ModelNode, depth: number, bestDepth: { d: number }) => {
    const owns = (n.hookPath !== undefined && stepName.startsWith(`${n.hookPath}.`)) || (n.reveal?.to === 'hook' && n.reveal.name === stepName);
    if (owns && depth > bestDepth.d && n.kind !== 'head') {
      best = n;
      bestDepth.d = depth;
    }
    for (const c of n.children) visit(c, depth + 1, bestDepth);
  };
  visit(root, 0, { d: -1 });
  return best;
}

/** Every node, depth first, with its parent. */
export function* walkTree(root: ModelNode, parent?: ModelNode): Generator<{ node: ModelNode; parent?: ModelNode }> {
  yield { node: root, ...(parent ? { parent } : {}) };
  for (const c of root.children) yield* walkTree(c, root);
}
