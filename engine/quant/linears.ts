import { Linear } from '../nn/linear';
import type { Tensor } from '../tensor';
import type { TransformerModel, ModelInput } from '../model/transformer';
import { runTrace } from '../trace/step';

/** A linear layer of the model with the weight name it was loaded under (`model.layers.0.self_attn.q_proj`). */
export interface NamedLinear {
  readonly name: string;
  readonly linear: Linear;
}

/**
 * Every Linear reachable from the model, named by its weight's key in `model.parameters`. The vocabulary
 * projection (lm_head, often the embedding itself) is left out, as AutoGPTQ and AutoAWQ leave it out.
 */
export function findLinears(model: TransformerModel): NamedLinear[] {
  const nameOf = new Map<Tensor, string>();
  for (const [name, t] of model.parameters) nameOf.set(t, name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : name);
  const found: NamedLinear[] = [];
  const seen = new Set<unknown>();
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 12) return;
    seen.add(v);
    if (v instanceof Linear) {
      const name = nameOf.get(v.weight);
      if (name !== undefined && v !== model.lmHead) found.push({ name, linear: v });
      return;
    }
    if (ArrayBuffer.isView(v) || v instanceof Map) return;
    for (const child of Array.isArray(v) ? v : Object.values(v)) visit(child, depth + 1);
  };
  seen.add(model.lmHead);
  visit(model.main, 0);
  visit(model.decoder, 0);
  visit(model.headExtras, 0);
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
