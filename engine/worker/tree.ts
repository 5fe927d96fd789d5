import type { Tensor } from '../tensor';
import type { TransformerModel, Side } from '../model/transformer';
import type { Norm } from '../nn/norm';
import type { Block, ModuleSummary } from '../nn/block';
import type { ModelNode } from '../../protocol/tree';

/**
 * The model as a tree for the sidebar: embeddings, blocks, sublayers (attention with its heads, MLP,
 * norms), final norm, LM head. Labels and details come from the modules' own summaries; parameter
 * counts from the tensors the engine allocated (`model.parameters`): each node counts the tensors
 * first seen in it, in tree order, so a tied or shared tensor is counted once, where it first
 * appears, and the children add up to the total.
 */
export { nodeForStep, walkTree, type ModelNode, type NodeKind, type Reveal } from '../../protocol/tree';

/** What a module's selection shows first, in order of preference. */
const PREFER = {
  attention: ['hook_pattern', 'hook_attn_scores', 'hook_z'],
  mlp: ['hook_post', 'hook_expert_weights', 'hook_pre'],
  block: ['hook_resid_post'],
} as const;

export function modelTree(model: TransformerModel): ModelNode {
  const names = new Map<Tensor, string>();
  for (const [name, t] of model.parameters) names.set(t, name);
  const seen = new Set<Tensor>();
  const spec = model.spec;

  /** Own tensors of a node, and how many of their parameters are new here. */
  const own = (tensors: readonly (Tensor | undefined)[]) => {
    const present = tensors.filter((t): t is Tensor => t !== undefined);
    let fresh = 0;
    for (const t of present) {
      if (!seen.has(t)) fresh += t.size;
      seen.add(t);
    }
    return { parameters: fresh, tensors: present.map((t) => ({ name: names.get(t) ?? '(unnamed)', shape: [...t.shape] })) };
  };
  const sum = (children: ModelNode[]) => children.reduce((a, c) => a + c.parameters, 0);
  const normLabel = (n: Norm) => (n.spec.kind === 'layernorm' ? (n.spec.bias ? 'LayerNorm' : 'LayerNorm (no bias)') : n.spec.kind === 'rmsnorm' ? 'RMSNorm' : 'ScaleNorm');
  const normTensors = (n: Norm) => {
    const p = n as Norm & { weight?: Tensor; bias?: Tensor }; // every norm kind keeps its gain (and bias) as fields
    return [p.weight, p.bias];
  };

  /** An attention module from its summary: heads as children, nested attentions (latent bottleneck) too. */
  const attention = (s: ModuleSummary, label?: string): ModelNode => {
    const mine = own(s.tensors);
    const nested = (s.children ?? []).map((c) => attention(c));
    const heads: ModelNode[] = s.heads
      ? Array.from({ length: s.heads.count }, (_, h) => ({
          id: `${s.path}#head${h}`,
          label: `Head ${h}`,
          kind: 'head',
          detail: `d_head ${s.heads!.headDim}`,
          parameters: 0,
          note: `its slice of W_Q (rows ${h * s.heads!.headDim}–${(h + 1) * s.heads!.headDim - 1}) and of W_O's columns; counted in the attention`,
          tensors: [],
          reveal: { to: 'module', path: s.path, prefer: [...PREFER.attention] },
          children: [],
        }))
      : [];
    return {
      id: s.path,
      label: label ?? s.label,
      kind: 'attention',
      detail: s.detail,
      parameters: mine.parameters + sum(nested),
      tensors: mine.tensors,
      hookPath: s.path,
      reveal: { to: 'module', path: s.path, prefer: [...PREFER.attention] },
      children: [...nested, ...heads],
    };
  };

  const block = (b: Block, i: number): ModelNode => {
    const children: ModelNode[] = [];
    b.sublayers.forEach((s, n) => {
      const ln = `${b.path}.ln${n + 1}`; // the norm hook names Block.forward gives its sublayers
      const norm: ModelNode = {
        id: ln,
        label: `Norm ${n + 1}`,
        kind: 'norm',
        detail: `${normLabel(s.norm)}(${spec.dModel}), ${b.placement}-norm`,
        ...own(normTensors(s.norm)),
        hookPath: ln,
        reveal: { to: 'hook', name: `${ln}.hook_normalized` },
        children: [],
      };
      if (b.placement === 'pre') children.push(norm);
      if (s.kind === 'mlp') {
        const f = s.ffn.summary();
        children.push({ id: f.path, label: f.label, kind: 'mlp', detail: f.detail, ...own(f.tensors), hookPath: f.path, reveal: { to: 'module', path: f.path, prefer: [...PREFER.mlp] }, children: [] });
      } else {
        const a = attention(s.attn.summary());
        if (s.kind === 'cross_attn') a.label = `Cross-attention: ${a.label}`;
        children.push(a);
      }
      if (b.placement === 'post') children.push(norm);
    });
    const total = sum(children);
    const shared = total === 0 && children.some((c) => c.tensors.length > 0);
    return {
      id: b.path,
      label: `Block ${i}`,
      kind: 'block',
      detail: b.sublayers.map((s) => (s.kind === 'attn' ? 'attention' : s.kind === 'cross_attn' ? 'cross-attention' : 'MLP')).join(' → '),
      parameters: total,
      ...(shared ? { note: spec.sharedLayers ? "uses block 0's tensors (shared_layers)" : 'shares its weights with an earlier block' } : {}),
      tensors: [],
      hookPath: b.path,
      reveal: { to: 'module', path: b.path, prefer: [...PREFER.block] },
      children,
    };
  };

  const side = (s: Side, prefix: string): ModelNode[] => {
    const [V, D] = s.embed.token.weight.shape;
    const tok = own([s.embed.token.weight]);
    const emb: ModelNode[] = [
      {
        id: `${prefix}embed`,
        label: 'Token embedding',
        kind: 'embedding',
        detail: `${V} × ${D}${s.embed.token.scale !== 1 ? `, scaled by √${D}` : ''}`,
        ...tok,
        ...(tok.parameters === 0 ? { note: 'the same table as the encoder embedding (share_embeddings)' } : {}),
        reveal: { to: 'hook', name: `${prefix}hook_embed` },
        children: [],
      },
    ];
    const pos = s.embed.positions;
    if (pos?.kind === 'learned') {
      emb.push({ id: `${prefix}pos_embed`, label: 'Position embedding', kind: 'positions', detail: `learned, ${pos.embedding.weight.shape.join(' × ')}`, ...own([pos.embedding.weight]), reveal: { to: 'hook', name: `${prefix}hook_pos_embed` }, children: [] });
    } else if (pos?.kind === 'table') {
      // A fixed table; Marian holds its tables as frozen parameters, which then count here.
      const frozen = names.has(pos.table) ? own([pos.table]) : { parameters: 0, tensors: [] };
      const note = frozen.tensors.length ? 'the sinusoid formula, held as a frozen parameter (never trained)' : 'a fixed table, no parameters';
      emb.push({ id: `${prefix}pos_embed`, label: 'Positional encoding', kind: 'positions', detail: `sinusoidal, ${pos.table.shape.join(' × ')}`, ...frozen, note, reveal: { to: 'hook', name: `${prefix}hook_pos_embed` }, children: [] });
    }
    if (s.embed.tokenTypes) {
      const tt = s.embed.tokenTypes.weight;
      emb.push({ id: `${prefix}token_type_embed`, label: 'Token type embedding', kind: 'embedding', detail: tt.shape.join(' × '), ...own([tt]), reveal: { to: 'hook', name: `${prefix}hook_token_type_embed` }, children: [] });
    }
    if (s.embed.norm) {
      const n = s.embed.norm;
      emb.push({ id: `${prefix}ln_embed`, label: 'Embedding norm', kind: 'norm', detail: `${normLabel(n)}(${D})`, ...own(normTensors(n)), hookPath: `${prefix}ln_embed`, reveal: { to: 'hook', name: `${prefix}ln_embed.hook_normalized` }, children: [] });
    }
    const nodes: ModelNode[] = [
      { id: `${prefix}embeddings`, label: 'Embeddings', kind: 'embeddings', detail: `d_model ${D}`, parameters: sum(emb), tensors: [], reveal: { to: 'hook', name: `${prefix}hook_embed` }, children: emb },
      ...s.stack.blocks.map(block),
    ];
    const fn = s.stack.finalNorm;
    if (fn) {
      const path = `${prefix}ln_final`;
      nodes.push({ id: path, label: 'Final norm', kind: 'norm', detail: `${normLabel(fn)}(${D})`, ...own(normTensors(fn)), hookPath: path, reveal: { to: 'hook', name: `${path}.hook_normalized` }, children: [] });
    }
    return nodes;
  };

  const children: ModelNode[] = [];
  if (model.decoder) {
    const enc = side(model.main, 'encoder.');
    const dec = side(model.decoder, 'decoder.');
    children.push({ id: 'encoder', label: 'Encoder', kind: 'stack', detail: `${model.main.stack.blocks.length} blocks`, parameters: sum(enc), tensors: [], hookPath: 'encoder', children: enc });
    children.push({ id: 'decoder', label: 'Decoder', kind: 'stack', detail: `${model.decoder.stack.blocks.length} blocks`, parameters: sum(dec), tensors: [], hookPath: 'decoder', children: dec });
  } else {
    children.push(...side(model.main, ''));
  }
  const head = model.lmHead;
  const tied = head.weight === model.main.embed.token.weight || head.weight === model.decoder?.embed.token.weight;
  const transform = model.headExtras.transform;
  if (transform) {
    const t = own([...transform.dense.tensors(), ...normTensors(transform.norm)]);
    children.push({ id: 'lm_head.transform', label: 'Head transform', kind: 'mlp', detail: `${transform.dense.inFeatures} → ${transform.dense.outFeatures}, ${transform.act}, ${normLabel(transform.norm)}`, ...t, reveal: { to: 'hook', name: 'logits' }, children: [] });
  }
  children.push({
    id: 'lm_head',
    label: 'LM head',
    kind: 'lm_head',
    detail: `${head.inFeatures} → ${head.outFeatures}`,
    ...own(head.tensors()),
    ...(tied ? { note: 'weight tied to the token embedding' } : {}),
    reveal: { to: 'hook', name: 'logits' },
    children: [],
  });
  return {
    id: 'model',
    label: spec.family === 'native' ? `${capitalize(spec.architecture)} Transformer` : spec.family,
    kind: 'model',
    detail: `d_model ${spec.dModel}, ${spec.numHeads} heads, ${spec.numLayers + spec.numDecoderLayers} layers`,
    parameters: sum(children),
    tensors: [],
    children,
  };
}


function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
