import { Tensor, swapAxes12 } from '../tensor';
import { Linear } from './linear';
import type { Norm } from './norm';
import { materialize, type MaskRule } from './mask';
import { applyRope, type RopeSpec } from './rope';
import { scaledDotProductAttention } from './attention';
import type { AttentionModule, ModuleSummary } from './block';
import { hook, observe, type Trace } from '../trace/step';

/** The sizes of DeepSeek-V2's multi-head latent attention. */
export interface MlaSizes {
  heads: number;
  /** Rank of the compressed K/V latent c_KV (what an inference engine caches, with the RoPE key). */
  kvLoraRank: number;
  /** Rank of the compressed query, or undefined when q is projected directly. */
  qLoraRank?: number;
  /** Per-head query/key dims without position information. */
  qkNopeHeadDim: number;
  /** Per-head dims that carry RoPE; the RoPE key is shared by all heads (decoupled RoPE). */
  qkRopeHeadDim: number;
  vHeadDim: number;
}

/**
 * Multi-head latent attention (DeepSeek-V2, 2024). Keys and values are rebuilt from a low-rank latent
 * c_KV = RMSNorm(W_DKV·x) of width kv_lora_rank, so the cache holds kv_lora_rank + qk_rope_head_dim
 * numbers per token instead of 2·H·d_head. Position enters only through a decoupled RoPE part: a
 * per-head rope query and ONE rope key shared by all heads. Not to be confused with the Perceiver-style
 * latent bottleneck that some tutorials call "multi-head latent attention".
 *
 * RoPE here de-interleaves the rope dims (pairs 2i, 2i+1 → i, i + d/2) and then applies rotate_half, as
 * DeepSeek's released modeling code does; the scores equal the interleaved rotation.
 */
export class MultiHeadLatentAttention implements AttentionModule {
  constructor(
    readonly path: string,
    readonly sizes: MlaSizes,
    readonly q: { kind: 'direct'; proj: Linear } | { kind: 'lora'; down: Linear; norm: Norm; up: Linear },
    /** W_DKV with the RoPE key: hidden → kv_lora_rank + qk_rope_head_dim. */
    readonly kvDown: Linear,
    readonly kvNorm: Norm,
    /** W_UK and W_UV together: kv_lora_rank → H·(qk_nope_head_dim + v_head_dim). */
    readonly kvUp: Linear,
    readonly out: Linear,
    readonly rope: RopeSpec,
    readonly scale: number,
  ) {}

  summary(): ModuleSummary {
    const s = this.sizes;
    // Every norm kind keeps its gain (and bias) as fields.
    const normParams = (n: Norm) => [(n as Norm & { weight?: Tensor }).weight, (n as Norm & { bias?: Tensor }).bias].filter((t): t is Tensor => t !== undefined);
    const qParts = this.q.kind === 'direct' ? this.q.proj.tensors() : [...this.q.down.tensors(), ...normParams(this.q.norm), ...this.q.up.tensors()];
    return {
      path: this.path,
      label: 'Multi-head latent attention (DeepSeek MLA)',
      detail: `${s.heads} heads; K/V from a ${s.kvLoraRank}-wide latent, decoupled RoPE key of ${s.qkRopeHeadDim} dims shared by all heads${s.qLoraRank ? `; queries through a ${s.qLoraRank}-wide latent` : ''}; caches ${s.kvLoraRank + s.qkRopeHeadDim} numbers per token per layer`,
      tensors: [...qParts, ...this.kvDown.tensors(), ...normParams(this.kvNorm), ...this.kvUp.tensors(), ...this.out.tensors()],
      heads: { count: s.heads, headDim: s.qkNopeHeadDim + s.qkRopeHeadDim },
    };
  }

  *forward(x: Tensor, _xkv: Tensor, rules: readonly MaskRule[]): Trace {
    const [B, T] = x.shape as [number, number];
    const { heads: H, kvLoraRank: R, qkNopeHeadDim: dn, qkRopeHeadDim: dr, vHeadDim: dv } = this.sizes;
    const dq = dn + dr;
    const p = this.path;
    const qFlat = this.q.kind === 'direct' ? this.q.proj.forward(x) : this.q.up.forward(this.q.norm.forward(this.q.down.forward(x)));
    const q = yield* hook(`${p}.hook_q`, qFlat.view(B, T, H, dq)); // (B, T, H, dn + dr)
    const ckv = this.kvDown.forward(x); // (B, T, R + dr)
    const latent = new Tensor([B, T, R]);
    const kRope = new Tensor([B, T, 1, dr]);
    for (let bt = 0; bt < B * T; bt++) {
      latent.data.set(ckv.data.subarray(bt * (R + dr), bt * (R + dr) + R), bt * R);
      kRope.data.set(ckv.data.subarray(bt * (R + dr) + R, (bt + 1) * (R + dr)), bt * dr);
    }
    const cKV = yield* hook(`${p}.hook_kv_latent`, this.kvNorm.forward(latent)); // (B, T, R)
    const kv = this.kvUp.forward(cKV).view(B, T, H, dn + dv); // (B, T, H, dn + dv)
    // Split q into its content and rope parts, and kv into k_nope and v.
    const qPe = new Tensor([B, T, H, dr]);
    const kNope = new Tensor([B, T, H, dn]);
    const v = new Tensor([B, T, H, dv]);
    for (let i = 0; i < B * T * H; i++) {
      qPe.data.set(q.data.subarray(i * dq + dn, (i + 1) * dq), i * dr);
      kNope.data.set(kv.data.subarray(i * (dn + dv), i * (dn + dv) + dn), i * dn);
      v.data.set(kv.data.subarray(i * (dn + dv) + dn, (i + 1) * (dn + dv)), i * dv);
    }
    yield* observe(`${p}.hook_v`, v);
    const qRot = applyRope(deinterleave(qPe), this.rope);
    const kRot = yield* hook(`${p}.hook_rot_k`, applyRope(deinterleave(kRope), this.rope)); // (B, T, 1, dr)
    // Full queries and keys: [nope ‖ rope]; the single rope key is broadcast to every head.
    const join = (nope: Tensor, ropePart: Tensor, ropeHeads: number): Tensor => {
      const out = new Tensor([B, T, H, dq]);
      for (let bt = 0; bt < B * T; bt++) {
        for (let h = 0; h < H; h++) {
          const i = bt * H + h;
          const r = ropeHeads === 1 ? bt : i;
          out.data.set(nope.data.subarray(i * dn, (i + 1) * dn), i * dq);
          out.data.set(ropePart.data.subarray(r * dr, (r + 1) * dr), i * dq + dn);
        }
      }
      return out;
    };
    yield* observe(`${p}.hook_k`, join(kNope, kRope, 1)); // (B, T, H, dn + dr), before RoPE
    const qFull = yield* hook(`${p}.hook_rot_q`, join(qNopeOf(q, dn, dq), qRot, H));
    const kFull = join(kNope, kRot, 1);
    const mask = materialize(rules, B, T, T);
    const att = scaledDotProductAttention(swapAxes12(qFull), swapAxes12(kFull), swapAxes12(v), mask, this.scale);
    yield* observe(`${p}.hook_attn_scores`, att.scores, mask);
    yield* observe(`${p}.hook_pattern`, att.probs, mask);
    const z = yield* hook(`${p}.hook_z`, swapAxes12(att.output)); // (B, T, H, dv)
    return this.out.forward(z.view(B, T, H * dv));
  }
}

function qNopeOf(q: Tensor, dn: number, dq: number): Tensor {
  const rows = q.size / dq;
  const out = new Tensor([rows, dn]);
  for (let i = 0; i < rows; i++) out.data.set(q.data.subarray(i * dq, i * dq + dn), i * dn);
  return out;
}

/** [.., d] with pairs (2i, 2i+1) → (i, i + d/2): DeepSeek's view(d/2, 2).transpose before rotate_half. */
export function deinterleave(x: Tensor): Tensor {
  const d = x.shape[x.rank - 1];
  const half = d / 2;
  const out = new Tensor(x.shape);
  for (let r = 0; r < x.size / d; r++) {
    for (let i = 0; i < half; i++) {
      out.data[r * d + i] = x.data[r * d + 2 * i];
      out.data[r * d + half + i] = x.data[r * d + 2 * i + 1];
    }
  }
  return out;
}
