import type { Tensor } from '../tensor';
import { InspectorError } from '../errors';
import type { ModelInput, TransformerModel } from '../model/transformer';
import { runTrace, type Step } from '../trace/step';
import { blockOutputHook, outputProjection, readoutSide, residPreHook } from './model-view';
import { freezeNorm } from './frozen-norm';
import { checkToken, logitDifference } from './metrics';

/**
 * Direct logit attribution: in a pre-norm model the last residual is a sum — the embeddings, every
 * attention head's output (z_h · W_O[:, h]), every MLP's output — plus the attention output biases. With
 * the final norm's scale frozen at the actual run (see frozen-norm.ts) the readout is linear, so each part's
 * direct effect on a logit (or a logit difference) is its frozen-normed vector dotted with the unembedding
 * row; the parts and the bias terms add up to the logit the model computed.
 */
export type { AttributionComponent } from '../../protocol/analyses';
import type { AttributionComponent } from '../../protocol/analyses';

export interface Attribution {
  batch: number;
  position: number;
  target: number;
  versus?: number;
  /** The model's logit[target] (− logit[versus]) at this position. */
  logit: number;
  components: AttributionComponent[];
  /** Terms no component owns: attention output biases (through the frozen norm), the final norm's bias, the unembedding's bias. */
  biases: { name: string; value: number }[];
  /** Σ components + Σ biases (equals `logit` up to rounding). */
  total: number;
  /** The frozen final-norm scale s at this position. */
  normScale: number;
}

export interface AttributionOptions {
  target: number;
  versus?: number;
  /** Position (the last by default) and sequence of the batch. */
  position?: number;
  batch?: number;
}

export function directLogitAttribution(model: TransformerModel, input: ModelInput, opts: AttributionOptions): Attribution {
  const { steps, result } = runTrace(model.forward(input));
  return attributeSteps(model, steps, result, opts);
}

/** Attribution from the steps of a pass already run. */
export function attributeSteps(model: TransformerModel, steps: readonly Step[], logits: Tensor, opts: AttributionOptions): Attribution {
  const { side, stack, blocks } = readoutSide(model);
  if (blocks.some((b) => b.placement !== 'pre')) {
    throw new InspectorError('direct logit attribution needs a pre-norm model: in a post-norm model every block renormalises the residual, so it is not a sum of the blocks’ outputs');
  }
  if (model.headExtras.transform) throw new InspectorError('direct logit attribution: this head has a nonlinear transform (dense → activation → norm) before the unembedding');
  const [B, T, V] = logits.shape as [number, number, number];
  const b = opts.batch ?? 0;
  const t = opts.position ?? T - 1;
  if (b < 0 || b >= B) throw new InspectorError(`attribution: batch ${b} does not exist (batch size ${B})`);
  if (!Number.isInteger(t) || t < 0 || t >= T) throw new InspectorError(`attribution: position ${t} is outside the input (0 … ${T - 1})`);
  const target = checkToken(opts.target, V, 'attribution target');
  const versus = opts.versus === undefined ? undefined : checkToken(opts.versus, V, 'attribution versus');
  const byName = new Map(steps.map((s) => [s.name, s.tensor]));
  const get = (name: string): Tensor => {
    const x = byName.get(name);
    if (!x) throw new InspectorError(`the forward pass recorded no '${name}'`);
    return x;
  };
  const D = stack.blocks.length ? get(residPreHook(blocks[0])).shape[2] : 0;
  const row = b * T + t;
  const frozen = freezeNorm(stack.finalNorm, get(blockOutputHook(blocks[blocks.length - 1])), row);

  // The unembedding direction: W_U[target] − W_U[versus], [d_model].
  const W = model.lmHead.weight.data;
  const u = new Float64Array(D);
  for (let j = 0; j < D; j++) u[j] = W[target * D + j] - (versus === undefined ? 0 : W[versus * D + j]);
  const normed = new Float64Array(D);
  const direct = (vec: ArrayLike<number>): number => {
    frozen.apply(vec, normed);
    let s = 0;
    for (let j = 0; j < D; j++) s += normed[j] * u[j];
    return s;
  };
  const rowOf = (x: Tensor) => x.data.subarray(row * D, (row + 1) * D);

  const components: AttributionComponent[] = [];
  const biases: { name: string; value: number }[] = [];
  const embedHooks = side.embed.norm ? [residPreHook(blocks[0])] : [`${stack.prefix}hook_embed`, `${stack.prefix}hook_pos_embed`, `${stack.prefix}hook_token_type_embed`].filter((n) => byName.has(n));
  for (const name of embedHooks) components.push({ name, kind: 'embed', value: direct(rowOf(get(name))) });

  const headVec = new Float64Array(D);
  blocks.forEach((block, layer) => {
    for (const s of block.sublayers) {
      if (s.kind === 'mlp') {
        const name = `${block.path}.hook_mlp_out`;
        components.push({ name, kind: 'mlp', layer, value: direct(rowOf(get(name))) });
        continue;
      }
      const outName = `${block.path}.${s.kind === 'attn' ? 'hook_attn_out' : 'hook_cross_attn_out'}`;
      const proj = outputProjection(s);
      const z = byName.get(`${s.attn.path}.hook_z`);
      if (!proj || !z || z.shape[2] * z.shape[3] !== proj.inFeatures) {
        components.push({ name: outName, kind: 'attn', layer, attention: s.kind === 'attn' ? 'self' : 'cross', value: direct(rowOf(get(outName))) });
        continue;
      }
      const [, , H, dv] = z.shape as [number, number, number, number];
      const Wo = proj.weight.data; // [d_model, H·dv]
      const K = H * dv;
      const zRow = z.data.subarray(row * K, (row + 1) * K);
      for (let h = 0; h < H; h++) {
        // result_h = W_O[:, h·dv:(h+1)·dv] · z_h   (d_model)
        for (let j = 0; j < D; j++) {
          let acc = 0;
          for (let k = 0; k < dv; k++) acc += Wo[j * K + h * dv + k] * zRow[h * dv + k];
          headVec[j] = acc;
        }
        components.push({ name: `${s.attn.path}.head.${h}`, kind: 'head', layer, head: h, attention: s.kind === 'attn' ? 'self' : 'cross', value: direct(headVec) });
      }
      if (proj.bias) biases.push({ name: `${s.attn.path}.b_O`, value: direct(proj.bias.data) });
    }
  });
  if (frozen.bias) biases.push({ name: `${stack.prefix}ln_final.b`, value: dot(frozen.bias, u) });
  const lmBias = model.lmHead.bias?.data;
  if (lmBias) biases.push({ name: 'lm_head.b', value: lmBias[target] - (versus === undefined ? 0 : lmBias[versus]) });
  const lb = model.headExtras.logitsBias?.data;
  if (lb) biases.push({ name: 'final_logits_bias', value: lb[target] - (versus === undefined ? 0 : lb[versus]) });
  let total = 0;
  for (const c of components) total += c.value;
  for (const x of biases) total += x.value;
  return { batch: b, position: t, target, versus, logit: logitDifference(logits, b, t, target, versus), components, biases, total, normScale: frozen.scale };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

/** The self-attention head components as a layers × heads table (rows empty where a layer has no per-head split). */
export function headTable(a: Attribution, layers: number, attention: 'self' | 'cross' = 'self'): number[][] {
  const table: number[][] = Array.from({ length: layers }, () => []);
  for (const c of a.components) if (c.kind === 'head' && c.attention === attention) table[c.layer!][c.head!] = c.value;
  return table;
}
