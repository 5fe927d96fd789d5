/**
 * The proof that the native engine computes what PyTorch computes: for every golden case written by
 * tools/golden/gen_native.py (the tutorial code and torch.nn.Transformer), the logits and every
 * intermediate tensor match to 1e-5, and the parameter count matches PyTorch's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertClose, relativeError } from '../helpers/close';
import { listNativeCases, loadNativeCase, readExpected, type FixtureCase } from '../helpers/fixtures';
import { runTrace } from '../../engine/trace/step';
import { nativeSpecFromJson } from '../../engine/config/native';
import { buildNativeModel } from '../../engine/model/native';
import { FileWeights } from '../../engine/model/weights';
import { SafetensorsFile, writeSafetensors } from '../../engine/io/safetensors';
import { sinusoidalTable } from '../../engine/nn/positional';
import { MASKED_FILL } from '../../engine/nn/mask';
import { InspectorError } from '../../engine/errors';
import { Tensor } from '../../engine/tensor';
import type { ModelInput } from '../../engine/model/transformer';

const CASES = [
  'torch_padding_post',
  'torch_padding_pre',
  'torch_postnorm',
  'torch_prenorm',
  'tutorial_distinct',
  'tutorial_one_head',
  'tutorial_padding',
  'tutorial_postnorm',
  'tutorial_shared',
  'tutorial_shared_flag',
  'tutorial_t1',
];

const cache = new Map<string, FixtureCase>();
function fixture(name: string): FixtureCase {
  let c = cache.get(name);
  if (!c) cache.set(name, (c = loadNativeCase(name)));
  return c;
}

/**
 * Compare one hook. Attention scores hold −1e9 where masked: those entries must be exactly −1e9 on
 * both sides, and the rest are compared on their own scale (−1e9 would otherwise set the tolerance).
 */
function compareHook(name: string, actual: Tensor, expected: Tensor): void {
  assert.deepEqual(actual.shape, expected.shape, `${name}: shape`);
  if (!name.endsWith('hook_attn_scores')) {
    assertClose(actual.data, expected.data, 1e-5, name);
    return;
  }
  const a: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < expected.size; i++) {
    const masked = expected.data[i] === MASKED_FILL;
    assert.equal(actual.data[i] === MASKED_FILL, masked, `${name}[${i}]: masked in one but not the other`);
    if (!masked) {
      a.push(actual.data[i]);
      e.push(expected.data[i]);
    }
  }
  assert.ok(e.length > 0, `${name}: every score is masked`);
  assertClose(a, e, 1e-5, name);
}

test('the golden fixture folder holds exactly the expected cases', () => {
  assert.deepEqual(listNativeCases(), CASES);
});

for (const name of CASES) {
  test(`${name}: logits and every intermediate tensor match PyTorch to 1e-5`, () => {
    const c = fixture(name);
    assert.equal(c.loaded.weightsPath, c.weightsPath, 'the fixture weights were loaded');
    assert.equal(c.loaded.model.seeded, false);
    const { steps, result } = runTrace(c.loaded.model.forward(c.input));
    const traced = new Map(steps.map((s) => [s.name, s.tensor]));
    // The generator dumps every hook: the names must agree exactly, so a hook the engine renames,
    // drops or adds is caught, and no comparison is skipped.
    assert.deepEqual([...traced.keys()].sort(), [...c.expected.keys()].sort());
    for (const [hookName, want] of c.expected) compareHook(hookName, traced.get(hookName)!, want);
    compareHook('logits (result)', result, c.expected.get('logits')!);
    // The mask a score/pattern step carries (what the UI greys out) is the one PyTorch applied.
    for (const s of steps.filter((x) => x.name.endsWith('hook_attn_scores') || x.name.endsWith('hook_pattern'))) {
      const scores = c.expected.get(s.name.replace('hook_pattern', 'hook_attn_scores'))!;
      const [B, H, Tq, Tk] = scores.shape;
      for (let i = 0; i < scores.size; i++) {
        const b = Math.floor(i / (H * Tq * Tk));
        const qk = i % (Tq * Tk);
        const allowed = s.mask ? s.mask.data[b * Tq * Tk + qk] === 1 : true;
        assert.equal(allowed, scores.data[i] !== MASKED_FILL, `${s.name}[${i}]: step mask disagrees with PyTorch's`);
      }
      assert.equal(B, c.input.ids.length);
    }
  });
}

test('every hook kind is covered by a pre-norm and a post-norm case on both paths', () => {
  const kinds = (name: string) => new Set([...fixture(name).expected.keys()].map((k) => k.slice(k.lastIndexOf('.') + 1)));
  const encoderKinds = ['hook_embed', 'hook_pos_embed', 'hook_resid_pre', 'hook_normalized', 'hook_q', 'hook_k', 'hook_v', 'hook_attn_scores', 'hook_pattern', 'hook_z', 'hook_attn_out', 'hook_resid_mid', 'hook_pre', 'hook_post', 'hook_mlp_out', 'hook_resid_post', 'logits'];
  const decoderKinds = [...encoderKinds, 'hook_cross_attn_out', 'hook_resid_mid_cross'];
  for (const c of ['tutorial_distinct', 'tutorial_postnorm']) for (const k of encoderKinds) assert.ok(kinds(c).has(k), `${c} lacks ${k}`);
  for (const c of ['torch_prenorm', 'torch_postnorm']) for (const k of decoderKinds) assert.ok(kinds(c).has(k), `${c} lacks ${k}`);
  assert.equal(fixture('tutorial_postnorm').loaded.spec.placement, 'post');
  assert.equal(fixture('torch_postnorm').loaded.spec.placement, 'post');
  assert.equal(fixture('tutorial_distinct').loaded.spec.placement, 'pre');
  assert.equal(fixture('torch_prenorm').loaded.spec.placement, 'pre');
});

test('parameter counts match PyTorch: one layer for shared_layers, every index by default', () => {
  for (const name of CASES) {
    const c = fixture(name);
    const n = c.loaded.model.parameterCount();
    if (name === 'tutorial_shared') {
      // The tutorial's ModuleList repeats one layer: PyTorch counts it once, the state dict per index.
      assert.equal(n, c.raw.state_dict_param_numel, name);
      assert.ok(n > c.raw.param_count, `${name}: loading each index counts more than PyTorch`);
    } else {
      assert.equal(n, c.raw.param_count, name);
    }
  }
  const shared = fixture('tutorial_shared');
  const flagged = fixture('tutorial_shared_flag');
  const spec = flagged.loaded.spec;
  const perLayer = (shared.raw.state_dict_param_numel - shared.raw.param_count) / (spec.numLayers - 1);
  assert.equal(perLayer, 4 * (spec.dModel * spec.dModel + spec.dModel) + 2 * spec.dModel * spec.dFF + spec.dFF + spec.dModel + 4 * spec.dModel);
  assert.ok(![...flagged.loaded.model.parameters.keys()].some((k) => k.startsWith('encoder.layers.1.')));
});

test('unused tensors: only the tutorial positional buffer, which equals the engine table', () => {
  for (const name of CASES) {
    const c = fixture(name);
    const unused = c.loaded.model.unusedWeights;
    if (name.startsWith('torch_')) {
      assert.deepEqual(unused, [], name);
      continue;
    }
    assert.ok(unused.every((u) => u === 'pos_encoding.pe'), `${name}: unused ${unused.join(', ')}`);
    const pe = SafetensorsFile.open(c.weightsPath).read('pos_encoding.pe');
    const spec = c.loaded.spec;
    assert.deepEqual(pe.shape, [1, spec.maxLen, spec.dModel]);
    assertClose(sinusoidalTable(spec.maxLen, spec.dModel).data, pe.data, 1e-5, `${name}: pos_encoding.pe`);
  }
});

test(
  "the tutorial's own state_dict loads without leftovers: its pos_encoding.pe buffer is recognised",
  () => {
    for (const name of CASES.filter((n) => n.startsWith('tutorial_'))) assert.deepEqual(fixture(name).loaded.model.unusedWeights, [], name);
  },
);

for (const name of ['tutorial_padding', 'torch_padding_post', 'torch_padding_pre']) {
  test(`${name}: an explicit attention mask gives the same result as pad_token_id, and no mask does not`, () => {
    const c = fixture(name);
    const json = JSON.parse(fs.readFileSync(c.configPath, 'utf8')) as Record<string, never>;
    const { pad_token_id: _pad, ...noPad } = json;
    const model = buildNativeModel(nativeSpecFromJson(noPad), new FileWeights([SafetensorsFile.open(c.weightsPath)]));
    const masked: ModelInput = { ...c.input, attentionMask: c.raw.attention_mask };
    if (c.raw.decoder_attention_mask) masked.decoderAttentionMask = c.raw.decoder_attention_mask;
    const want = c.expected.get('logits')!;
    assertClose(runTrace(model.forward(masked)).result.data, want.data, 1e-5, 'logits with attention_mask');
    const unmasked = runTrace(model.forward(c.input)).result;
    assert.ok(relativeError(unmasked.data, want.data) > 1e-2, 'the padding mask changes the logits');
  });
}

test('shared_layers: a copy that differs from layer 0 is refused, naming the tensor', () => {
  const c = fixture('tutorial_shared_flag');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'golden-shared-'));
  try {
    const tensors = readExpected(c.weightsPath);
    const victim = 'encoder.layers.1.ffn.linear2.bias';
    tensors.get(victim)!.data[0] += 0.5;
    writeSafetensors(path.join(dir, 'm.safetensors'), tensors);
    const model = () => buildNativeModel(c.loaded.spec, new FileWeights([SafetensorsFile.open(path.join(dir, 'm.safetensors'))]));
    assert.throws(model, (e: unknown) => e instanceof InspectorError && e.place.tensor === victim && /shared_layers/.test(e.message));
    // Without the flag the same file loads, and the changed copy changes the output.
    const spec = { ...c.loaded.spec, sharedLayers: false };
    const distinct = buildNativeModel(spec, new FileWeights([SafetensorsFile.open(path.join(dir, 'm.safetensors'))]));
    const out = runTrace(distinct.forward(c.input)).result;
    assert.ok(relativeError(out.data, c.expected.get('logits')!.data) > 1e-4);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
