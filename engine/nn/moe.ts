import { Tensor } from '../tensor';
import { Linear, add } from './linear';
import { rowKernels } from '../kernels';
import { GatedFeedForward } from './ffn';
import type { FeedForwardModule, ModuleSummary } from './block';
import { observe, type Trace } from '../trace/step';

export interface RouterSpec {
  topK: number;
  /** DeepSeek-V2: 'greedy' (top-k over all experts) or 'group_limited_greedy' (top groups first). */
  method: 'greedy' | 'group_limited_greedy';
  groups: number;
  topkGroups: number;
  /** Renormalise the chosen experts' weights to sum to 1. */
  normTopK: boolean;
  /** Multiplies the routed experts' weights (DeepSeek's routed_scaling_factor). */
  scale: number;
}

/**
 * Mixture of experts (DeepSeek-V2 style): a softmax router picks top-k routed experts per token; the
 * output is Σ_k w_k · expert_k(x) plus the shared experts, which every token uses. Experts are SwiGLU FFNs.
 * Hooks: mlp.hook_router_probs (softmax over experts, per token), mlp.hook_expert_weights (the weights
 * actually applied: zero for experts not chosen).
 */
export class MixtureOfExperts implements FeedForwardModule {
  constructor(
    readonly path: string,
    readonly router: Linear,
    readonly experts: readonly GatedFeedForward[],
    readonly shared: GatedFeedForward | undefined,
    readonly spec: RouterSpec,
  ) {}

  summary(): ModuleSummary {
    const n = this.experts.length;
    return {
      path: this.path,
      label: 'Mixture of experts',
      detail: `${n} routed SwiGLU experts, top-${this.spec.topK} per token (${this.spec.method})${this.shared ? ', plus shared experts' : ''}`,
      tensors: [...this.router.tensors(), ...this.experts.flatMap((e) => e.summary().tensors), ...(this.shared?.summary().tensors ?? [])],
    };
  }

  *forward(x: Tensor): Trace {
    const [B, T, D] = x.shape as [number, number, number];
    const E = this.experts.length;
    const probs = this.router.forward(x); // (B, T, E)
    rowKernels().softmaxRows(probs.data, B * T, E);
    yield* observe(`${this.path}.hook_router_probs`, probs);
    const weights = new Tensor([B, T, E]);
    for (let r = 0; r < B * T; r++) {
      const row = probs.data.subarray(r * E, (r + 1) * E);
      const chosen = this.choose(row);
      let sum = 0;
      for (const e of chosen) sum += row[e];
      for (const e of chosen) weights.data[r * E + e] = (this.spec.normTopK ? row[e] / (sum + 1e-20) : row[e]) * this.spec.scale;
    }
    yield* observe(`${this.path}.hook_expert_weights`, weights);
    const out = new Tensor([B, T, D]);
    // Each expert runs on the tokens routed to it (as a [1, n, D] batch), untraced: its steps would be
    // per expert and per token subset, not per position.
    for (let e = 0; e < E; e++) {
      const rows: number[] = [];
      for (let r = 0; r < B * T; r++) if (weights.data[r * E + e] !== 0) rows.push(r);
      if (rows.length === 0) continue;
      const xin = new Tensor([1, rows.length, D]);
      rows.forEach((r, k) => xin.data.set(x.data.subarray(r * D, (r + 1) * D), k * D));
      const y = runSilently(this.experts[e].forward(xin));
      rows.forEach((r, k) => {
        const w = weights.data[r * E + e];
        for (let j = 0; j < D; j++) out.data[r * D + j] += w * y.data[k * D + j];
      });
    }
    return this.shared ? add(out, runSilently(this.shared.forward(x))) : out;
  }

  private choose(row: Float32Array): number[] {
    const E = row.length;
    let allowed = Array.from({ length: E }, (_, e) => e);
    if (this.spec.method === 'group_limited_greedy') {
      const per = E / this.spec.groups;
      const groupMax = Array.from({ length: this.spec.groups }, (_, g) => Math.max(...row.subarray(g * per, (g + 1) * per)));
      const keep = new Set(topIndices(groupMax, this.spec.topkGroups));
      allowed = allowed.filter((e) => keep.has(Math.floor(e / per)));
    }
    return topIndices(allowed.map((e) => row[e]), this.spec.topK).map((i) => allowed[i]);
  }
}

/** Indices of the k largest values (ties: the lower index first, as torch.topk on CPU). */
function topIndices(values: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b] - values[a] || a - b)
    .slice(0, k);
}

function runSilently(trace: Trace): Tensor {
  for (;;) {
    const r = trace.next();
    if (r.done) return r.value;
  }
}
