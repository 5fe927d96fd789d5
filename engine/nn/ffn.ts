import { Tensor } from '../tensor';
import type { Activation } from '../kernels/ops';
import { activationFor } from '../kernels';
import { Linear } from './linear';
import { hook, type Trace } from '../trace/step';
import type { FeedForwardModule, ModuleSummary } from './block';

/** Position-wise feed-forward: W2·act(W1·x + b1) + b2 (ReLU in the 2017 paper, GELU in GPT-2/BERT). */
export class FeedForward implements FeedForwardModule {
  constructor(
    /** Hook prefix, e.g. `blocks.0.mlp`. */
    readonly path: string,
    readonly up: Linear,
    readonly down: Linear,
    readonly act: Activation,
  ) {
    this.activate = activationFor(act);
  }

  /** The activation's element-wise kernel, chosen once here: forward never looks at `act`. */
  private readonly activate: (out: Float32Array, x: Float32Array) => void;

  summary(): ModuleSummary {
    return {
      path: this.path,
      label: 'Feed-forward (MLP)',
      detail: `${this.up.inFeatures} → ${this.up.outFeatures} → ${this.down.outFeatures}, ${ACTIVATION_LABEL[this.act]}`,
      tensors: [...this.up.tensors(), ...this.down.tensors()],
    };
  }

  *forward(x: Tensor): Trace {
    const pre = yield* hook(`${this.path}.hook_pre`, this.up.forward(x)); // (B, T, d_mlp)
    const post = new Tensor(pre.shape);
    this.activate(post.data, pre.data);
    return this.down.forward(yield* hook(`${this.path}.hook_post`, post)); // (B, T, d_mlp) → (B, T, D)
  }
}

/**
 * Gated feed-forward: down(act(gate(x)) · up(x)).
 * - SwiGLU (Shazeer 2020; Llama's gate_proj/up_proj/down_proj): act = SiLU.
 * - GeGLU: act = GELU (Gemma: tanh GELU).
 * - Sigmoid GLU (Dauphin et al. 2017): act = sigmoid, i.e. fc1(x) · σ(fc2(x)). Tutorials often call this
 *   "Swish GLU"; it is not — Swish/SiLU is x·σ(x), and SwiGLU applies it to the gate.
 * Hooks as TransformerLens names them: mlp.hook_pre = gate(x), mlp.hook_pre_linear = up(x),
 * mlp.hook_post = act(gate(x)) · up(x).
 */
export class GatedFeedForward implements FeedForwardModule {
  constructor(
    readonly path: string,
    readonly gate: Linear,
    readonly up: Linear,
    readonly down: Linear,
    readonly act: Activation,
  ) {
    this.activate = activationFor(act);
  }

  /** The gate's element-wise kernel, chosen once here: forward never looks at `act`. */
  private readonly activate: (out: Float32Array, x: Float32Array) => void;

  get variant(): string {
    return this.act === 'silu' ? 'SwiGLU' : this.act === 'gelu' || this.act === 'gelu_tanh' ? 'GeGLU' : this.act === 'sigmoid' ? 'GLU (sigmoid gate)' : `${this.act}-gated GLU`;
  }

  summary(): ModuleSummary {
    return {
      path: this.path,
      label: `${this.variant} feed-forward`,
      detail: `down(${ACTIVATION_LABEL[this.act]}(gate(x)) · up(x)), ${this.up.inFeatures} → ${this.up.outFeatures} → ${this.down.outFeatures}`,
      tensors: [...this.gate.tensors(), ...this.up.tensors(), ...this.down.tensors()],
    };
  }

  *forward(x: Tensor): Trace {
    const g = yield* hook(`${this.path}.hook_pre`, this.gate.forward(x)); // (B, T, d_mlp)
    const u = yield* hook(`${this.path}.hook_pre_linear`, this.up.forward(x)); // (B, T, d_mlp)
    const post = new Tensor(g.shape);
    this.activate(post.data, g.data);
    for (let i = 0; i < post.size; i++) post.data[i] *= u.data[i];
    return this.down.forward(yield* hook(`${this.path}.hook_post`, post)); // (B, T, d_mlp) → (B, T, D)
  }
}

export const ACTIVATION_LABEL: Record<Activation, string> = {
  relu: 'ReLU',
  gelu: 'GELU (exact, erf)',
  gelu_tanh: 'GELU (tanh approximation)',
  silu: 'SiLU/Swish',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  identity: 'identity',
};
