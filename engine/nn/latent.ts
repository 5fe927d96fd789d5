import { Tensor } from '../tensor';
import type { MaskRule } from './mask';
import type { MultiHeadAttention } from './attention';
import type { AttentionModule, ModuleSummary } from './block';
import type { Trace } from '../trace/step';

/**
 * Perceiver-style latent bottleneck attention (Jaegle et al. 2021; Set Transformer's induced set
 * attention): m learned latent tokens first attend to the n input tokens (`to_latents`, m × n), then the
 * inputs attend to the updated latents (`from_latents`, n × m). Cost O(n·m) instead of O(n²).
 * Some tutorials call this "multi-head latent attention"; DeepSeek's MLA is a different thing
 * (a low-rank compressed K/V cache) — see `MultiHeadLatentAttention`.
 */
export class LatentBottleneckAttention implements AttentionModule {
  constructor(
    readonly path: string,
    /** The learned latents [m, d_model]. */
    readonly latents: Tensor,
    readonly toLatents: MultiHeadAttention,
    readonly fromLatents: MultiHeadAttention,
  ) {}

  summary(): ModuleSummary {
    const m = this.latents.shape[0];
    return {
      path: this.path,
      label: 'Latent bottleneck attention (Perceiver-style)',
      detail: `${m} learned latents: latents ← input (m × n), then input ← latents (n × m); not DeepSeek's MLA`,
      tensors: [this.latents],
      children: [this.toLatents.summary(), this.fromLatents.summary()],
    };
  }

  *forward(xq: Tensor, xkv: Tensor, rules: readonly MaskRule[]): Trace {
    const B = xq.shape[0];
    const [m, D] = this.latents.shape as [number, number];
    const lat = new Tensor([B, m, D]);
    for (let b = 0; b < B; b++) lat.data.set(this.latents.data, b * m * D);
    // Latents see every real input token: only padding applies (structural rules are per position).
    const padding = rules.filter((r) => r.kind === 'padding');
    const summary = yield* this.toLatents.forward(lat, xkv, padding); // (B, m, D)
    return yield* this.fromLatents.forward(xq, summary, []); // (B, n, D)
  }
}
