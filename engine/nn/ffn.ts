import { Tensor } from '../tensor';
import { activateInto, type Activation } from '../kernels/ops';
import { Linear } from './linear';
import { hook, type Trace } from '../trace/step';

/** Position-wise feed-forward: W2·act(W1·x + b1) + b2 (ReLU in the 2017 paper). */
export class FeedForward {
  constructor(
    /** Hook prefix, e.g. `blocks.0.mlp`. */
    readonly path: string,
    readonly up: Linear,
    readonly down: Linear,
    readonly act: Activation,
  ) {}

  *forward(x: Tensor): Trace {
    const pre = yield* hook(`${this.path}.hook_pre`, this.up.forward(x)); // (B, T, d_mlp)
    const post = new Tensor(pre.shape);
    activateInto(post.data, pre.data, this.act);
    yield* hook(`${this.path}.hook_post`, post); // (B, T, d_mlp)
    return this.down.forward(post); // (B, T, D)
  }
}
