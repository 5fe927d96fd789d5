import { Linear } from '../nn/linear';
import { Tensor } from '../tensor';
import type { TransformerModel, ModelInput } from '../model/transformer';
import { runTrace } from '../trace/step';

/**
 * A linear layer of the model, named by the weight it was loaded as (`model.layers.0.self_attn.q_proj`), or,
 * when its weight is a derived copy (GPT-2's transposed Conv1D, the q/k/v slices of `c_attn`), by its module's
 * hook path and field (`blocks.0.attn.q`).
 */
export interface NamedLinear {
  readonly name: string;
  readonly linear: Linear;
  /** The weight is a parameter tensor itself (so a checkpoint can store it under `name.weight`). */
  readonly isParameter: boolean;
}

/** Every Linear reachable from the model except the vocabulary projection (lm_head, often the embedding), as AutoGPTQ and AutoAWQ leave it. */
export function findLinears(model: TransformerModel): NamedLinear[] {
  const nameOf = new Map<Tensor, string>();
  for (const [name, t] of model.parameters) nameOf.set(t, name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : name);
  const found: NamedLinear[] = [];
  const seen = new Set<unknown>([model.lmHead]);
  const visit = (v: unknown, where: string, depth: number): void => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 16) return;
    seen.add(v);
    if (v instanceof Linear) {
      const name = nameOf.get(v.weight);
      found.push(name !== undefined ? { name, linear: v, isParameter: true } : { name: where, linear: v, isParameter: false });
      return;
    }
    if (ArrayBuffer.isView(v) || v instanceof Map || v instanceof Tensor) return;
    const own = (v as { path?: unknown }).path;
    const base = typeof own === 'string' && own ? own : where;
    const entries = Array.isArray(v) ? v.map((c, i) => [String(i), c] as const) : Object.entries(v);
    for (const [key, child] of entries) visit(child, typeof own === 'string' && own ? `${base}.${key}` : base ? `${base}.${key}` : key, depth + 1);
  };
  visit(model.main, '', 0);
  visit(model.decoder, 'decoder', 0);
  visit(model.headExtras, 'head', 0);
  return found;
}

export type LinearForward = (x: Tensor) => Tensor;

/** Replace one instance's forward (its prototype's stays); returns the undo. */
export function interceptForward(linear: Linear, make: (original: LinearForward) => LinearForward): () => void {
  const original: LinearForward = Linear.prototype.forward.bind(linear);
  linear.forward = make(original);
  return () => {
    delete (linear as { forward?: LinearForward }).forward;
  };
}

/**
 * One fp forward pass that records the order in which the linears are first called and which of them read
 * the same input tensor (q/k/v read the attention norm's output; gate/up the MLP norm's): the groups that
 * AWQ scales together and that are quantized from one captured input.
 */
export function discoverOrder(model: TransformerModel, linears: readonly NamedLinear[], input: ModelInput): NamedLinear[][] {
  const groups: NamedLinear[][] = [];
  const byInput = new Map<Tensor, NamedLinear[]>();
  const called = new Set<Linear>();
  const undo = linears.map((nl) =>
    interceptForward(nl.linear, (original) => (x) => {
      if (!called.has(nl.linear)) {
        called.add(nl.linear);
        let g = byInput.get(x);
        if (!g) {
          g = [];
          byInput.set(x, g);
          groups.push(g);
        }
        g.push(nl);
      }
      return original(x);
    }),
  );
  try {
    runTrace(model.forward(input));
  } finally {
    for (const u of undo) u();
  }
  return groups;
}
