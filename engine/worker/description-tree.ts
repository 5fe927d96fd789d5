import type { ModelNode } from '../../protocol/tree';
import type { ModelDescription } from '../model/describe';
import type { AttentionHooks, FfnHooks, StackHooks } from '../model/hooks';
import { gateActivation } from '../model/spec';
import { expandTensors } from '../analysis/params';
import { ACTIVATION_LABEL } from '../nn/ffn';
import { ROPE_LABEL } from '../nn/attention';
import { SINUSOIDAL_ROWS } from '../nn/positional';
import { treeNodeOf } from './weight-map';

/**
 * The sidebar tree from the model's one description, nothing built: the stacks, blocks and sublayers
 * of its hook plan (engine/model/hooks.ts), labels from its resolved variants, and on each node the
 * described tensors that the family's weight map (./weight-map.ts) places there. A tied tensor is
 * listed once by the description, so it counts once, where it is listed; the children add up to the
 * total. Same ids, kinds, labels and counts as the tree of the built modules (./tree.ts), which a test
 * holds for every family.
 */
const PREFER = {
  attention: ['hook_pattern', 'hook_attn_scores', 'hook_z'],
  mlp: ['hook_post', 'hook_expert_weights', 'hook_pre'],
  block: ['hook_resid_post'],
} as const;

export function descriptionTree(d: ModelDescription): ModelNode {
  const spec = d.spec;
  const encDec = spec.architecture === 'encoder-decoder';
  const placed = new Map<string, { name: string; shape: number[] }[]>();
  for (const t of expandTensors(d.arch)) {
    const id = treeNodeOf(spec.family, t.name, encDec);
    const list = placed.get(id) ?? [];
    list.push({ name: t.name, shape: t.shape.map(Number) });
    placed.set(id, list);
  }
  const used = new Set<string>();
  const own = (id: string) => {
    used.add(id);
    const tensors = placed.get(id) ?? [];
    return { parameters: tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0), tensors };
  };
  const sum = (children: ModelNode[]) => children.reduce((a, c) => a + c.parameters, 0);
  const D = spec.dModel;
  const normLabel = spec.norm.kind === 'layernorm' ? (spec.norm.bias ? 'LayerNorm' : 'LayerNorm (no bias)') : spec.norm.kind === 'rmsnorm' ? 'RMSNorm' : 'ScaleNorm';

  const heads = (path: string, count: number, headDim: number): ModelNode[] =>
    Array.from({ length: count }, (_, h) => ({
      id: `${path}#head${h}`,
      label: `Head ${h}`,
      kind: 'head',
      detail: `d_head ${headDim}`,
      parameters: 0,
      note: `its slice of W_Q (rows ${h * headDim}–${(h + 1) * headDim - 1}) and of W_O's columns; counted in the attention`,
      tensors: [],
      reveal: { to: 'module', path, prefer: [...PREFER.attention] },
      children: [],
    }));

  const attention = (path: string, a: AttentionHooks): ModelNode => {
    const mine = own(path);
    let label: string;
    let detail: string;
    let children: ModelNode[];
    if (a.kind === 'latent_bottleneck') {
      const inner: AttentionHooks = { kind: 'standard', heads: a.heads, kvHeads: a.heads, headDim: a.headDim, rope: false };
      children = [attention(`${path}.to_latents`, inner), attention(`${path}.from_latents`, inner)];
      label = 'Latent bottleneck attention (Perceiver-style)';
      detail = `${a.latents} learned latents: latents ← input (m × n), then input ← latents (n × m); not DeepSeek's MLA`;
    } else if (a.kind === 'mla') {
      children = heads(path, a.heads, a.qkHeadDim);
      label = 'Multi-head latent attention (DeepSeek MLA)';
      detail = `${a.heads} heads; K/V from a ${a.latent}-wide latent, decoupled RoPE key of ${a.ropeDim} dims shared by all heads${a.qLatent ? `; queries through a ${a.qLatent}-wide latent` : ''}; caches ${a.latent + a.ropeDim} numbers per token per layer`;
    } else {
      children = heads(path, a.heads, a.headDim);
      label = a.kvHeads === a.heads ? 'Multi-head attention' : a.kvHeads === 1 ? 'Multi-query attention' : 'Grouped-query attention';
      const parts = [`${a.heads} heads × ${a.headDim}`];
      if (a.kvHeads !== a.heads) parts.push(`${a.kvHeads} KV head${a.kvHeads > 1 ? 's' : ''} (query head h reads KV head h // ${a.heads / a.kvHeads})`);
      const p = spec.positional;
      if (a.rope && p.kind === 'rotary') {
        const rotaryDim = Math.round(a.headDim * p.partialFactor);
        parts.push(`RoPE ${ROPE_LABEL[p.layout]}, θ = ${p.theta}${rotaryDim < a.headDim ? `, ${rotaryDim} of ${a.headDim} dims` : ''}`);
      }
      if (spec.attentionImpl === 'flash') parts.push('FlashAttention-style tiled softmax (no pattern recorded)');
      detail = parts.join(', ');
    }
    return { id: path, label, kind: 'attention', detail, parameters: mine.parameters + sum(children), tensors: mine.tensors, hookPath: path, reveal: { to: 'module', path, prefer: [...PREFER.attention] }, children };
  };

  const ffn = (path: string, f: FfnHooks): ModelNode => {
    const act = gateActivation(spec);
    const variant = act === 'silu' ? 'SwiGLU' : act === 'gelu' || act === 'gelu_tanh' ? 'GeGLU' : act === 'sigmoid' ? 'GLU (sigmoid gate)' : `${act}-gated GLU`;
    const label = f.kind === 'moe' ? 'Mixture of experts' : f.kind === 'mlp' ? 'Feed-forward (MLP)' : `${variant} feed-forward`;
    const detail =
      f.kind === 'moe'
        ? `${f.experts} routed SwiGLU experts, top-${f.topK} per token (${f.method})${f.shared ? ', plus shared experts' : ''}`
        : f.kind === 'mlp'
          ? `${D} → ${f.dMlp} → ${D}, ${ACTIVATION_LABEL[spec.activation]}`
          : `down(${ACTIVATION_LABEL[act]}(gate(x)) · up(x)), ${D} → ${f.dMlp} → ${D}`;
    return { id: path, label, kind: 'mlp', detail, ...own(path), hookPath: path, reveal: { to: 'module', path, prefer: [...PREFER.mlp] }, children: [] };
  };

  const stack = (s: StackHooks): ModelNode[] => {
    const p = s.prefix;
    const tok = own(`${p}embed`);
    const emb: ModelNode[] = [
      {
        id: `${p}embed`,
        label: 'Token embedding',
        kind: 'embedding',
        detail: `${s.prefix === 'decoder.' ? spec.tgtVocabSize : spec.vocabSize} × ${D}${spec.scaleEmbedding ? `, scaled by √${D}` : ''}`,
        ...tok,
        ...(tok.parameters === 0 ? { note: 'the same table as the encoder embedding (share_embeddings)' } : {}),
        reveal: { to: 'hook', name: `${p}hook_embed` },
        children: [],
      },
    ];
    if (s.positions) {
      const learned = spec.positional.kind === 'learned';
      const pos = own(`${p}pos_embed`);
      emb.push({
        id: `${p}pos_embed`,
        label: learned ? 'Position embedding' : 'Positional encoding',
        kind: 'positions',
        detail: learned ? `learned, ${spec.maxLen} × ${D}` : `sinusoidal, ${spec.family === 'native' ? Math.min(spec.maxLen, SINUSOIDAL_ROWS) : spec.maxLen} × ${D}`,
        ...pos,
        ...(learned ? {} : { note: pos.tensors.length ? 'the sinusoid formula, held as a frozen parameter (never trained)' : 'a fixed table, no parameters' }),
        reveal: { to: 'hook', name: `${p}hook_pos_embed` },
        children: [],
      });
    }
    if (s.tokenTypes) emb.push({ id: `${p}token_type_embed`, label: 'Token type embedding', kind: 'embedding', detail: (placed.get(`${p}token_type_embed`)?.[0].shape ?? []).join(' × '), ...own(`${p}token_type_embed`), reveal: { to: 'hook', name: `${p}hook_token_type_embed` }, children: [] });
    if (s.embedNorm) emb.push({ id: `${p}ln_embed`, label: 'Embedding norm', kind: 'norm', detail: `${normLabel}(${D})`, ...own(`${p}ln_embed`), hookPath: `${p}ln_embed`, reveal: { to: 'hook', name: `${p}ln_embed.hook_normalized` }, children: [] });
    const nodes: ModelNode[] = [{ id: `${p}embeddings`, label: 'Embeddings', kind: 'embeddings', detail: `d_model ${D}`, parameters: sum(emb), tensors: [], reveal: { to: 'hook', name: `${p}hook_embed` }, children: emb }];
    s.layers.forEach((layer, i) => {
      const bp = `${p}blocks.${i}`;
      const subs: { kind: 'attn' | 'cross_attn' | 'mlp'; node: () => ModelNode }[] = [{ kind: 'attn', node: () => attention(`${bp}.attn`, layer.attn) }];
      if (layer.cross) {
        const cross = layer.cross;
        subs.push({ kind: 'cross_attn', node: () => { const a = attention(`${bp}.cross_attn`, cross); a.label = `Cross-attention: ${a.label}`; return a; } });
      }
      subs.push({ kind: 'mlp', node: () => ffn(`${bp}.mlp`, layer.ffn) });
      const children: ModelNode[] = [];
      subs.forEach((sub, n) => {
        const ln = `${bp}.ln${n + 1}`;
        const norm = (): ModelNode => ({ id: ln, label: `Norm ${n + 1}`, kind: 'norm', detail: `${normLabel}(${D}), ${s.placement}-norm`, ...own(ln), hookPath: ln, reveal: { to: 'hook', name: `${ln}.hook_normalized` }, children: [] });
        if (s.placement === 'pre') children.push(norm());
        children.push(sub.node());
        if (s.placement === 'post') children.push(norm());
      });
      const total = sum(children);
      nodes.push({
        id: bp,
        label: `Block ${i}`,
        kind: 'block',
        detail: subs.map((x) => (x.kind === 'attn' ? 'attention' : x.kind === 'cross_attn' ? 'cross-attention' : 'MLP')).join(' → '),
        parameters: total,
        ...(total === 0 && i > 0 ? { note: spec.sharedLayers ? "uses block 0's tensors (shared_layers)" : 'shares its weights with an earlier block' } : {}),
        tensors: [],
        hookPath: bp,
        reveal: { to: 'module', path: bp, prefer: [...PREFER.block] },
        children,
      });
    });
    if (s.finalNorm) nodes.push({ id: `${p}ln_final`, label: 'Final norm', kind: 'norm', detail: `${normLabel}(${D})`, ...own(`${p}ln_final`), hookPath: `${p}ln_final`, reveal: { to: 'hook', name: `${p}ln_final.hook_normalized` }, children: [] });
    return nodes;
  };

  const children: ModelNode[] = [];
  if (encDec) {
    for (const s of d.hooks.stacks) {
      const side = stack(s);
      const id = s.prefix.slice(0, -1);
      children.push({ id, label: id === 'encoder' ? 'Encoder' : 'Decoder', kind: 'stack', detail: `${s.layers.length} blocks`, parameters: sum(side), tensors: [], hookPath: id, children: side });
    }
  } else {
    children.push(...stack(d.hooks.stacks[0]));
  }
  if (placed.has('lm_head.transform')) children.push({ id: 'lm_head.transform', label: 'Head transform', kind: 'mlp', detail: `${D} → ${D}, ${spec.activation}, ${normLabel}`, ...own('lm_head.transform'), reveal: { to: 'hook', name: 'logits' }, children: [] });
  children.push({
    id: 'lm_head',
    label: 'LM head',
    kind: 'lm_head',
    detail: `${D} → ${d.hooks.vocab}`,
    ...own('lm_head'),
    ...(spec.tieEmbeddings ? { note: 'weight tied to the token embedding' } : {}),
    reveal: { to: 'hook', name: 'logits' },
    children: [],
  });
  const lost = [...placed.keys()].filter((id) => !used.has(id));
  if (lost.length > 0) throw new Error(`described tensors with no tree node: ${lost.join(', ')}`);
  return {
    id: 'model',
    label: spec.family === 'native' ? `${spec.architecture.charAt(0).toUpperCase()}${spec.architecture.slice(1)} Transformer` : spec.family,
    kind: 'model',
    detail: `d_model ${spec.dModel}, ${spec.numHeads} heads, ${spec.numLayers + spec.numDecoderLayers} layers`,
    parameters: sum(children),
    tensors: [],
    children,
  };
}
