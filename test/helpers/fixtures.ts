/**
 * Golden fixtures written by tools/golden/gen_native.py: one folder per case under test/fixtures/native,
 * holding the native config, its weights, the input and PyTorch's intermediate tensors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel, type LoadedModel } from '../../engine/model/load';
import { SafetensorsFile } from '../../engine/io/safetensors';
import type { Tensor } from '../../engine/tensor';
import type { ModelInput } from '../../engine/model/transformer';

export const NATIVE_FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'native');

/** input.json as the generator writes it. */
export interface FixtureInput {
  ids: number[][];
  decoder_ids?: number[][];
  attention_mask?: number[][];
  decoder_attention_mask?: number[][];
  description: string;
  /** PyTorch's `sum(p.numel() for p in model.parameters())` (a shared layer counted once). */
  param_count: number;
  /** Elements of every parameter entry in the saved state dict (a shared layer counted per index). */
  state_dict_param_numel: number;
}

export interface FixtureCase {
  name: string;
  dir: string;
  configPath: string;
  weightsPath: string;
  loaded: LoadedModel;
  raw: FixtureInput;
  /** The engine's input for this case; the padding mask comes from the config's pad_token_id. */
  input: ModelInput;
  /** PyTorch's tensors by hook name (and `logits`). */
  expected: Map<string, Tensor>;
}

/** The case folders present on disk, sorted. */
export function listNativeCases(): string[] {
  if (!fs.existsSync(NATIVE_FIXTURES)) return [];
  return fs
    .readdirSync(NATIVE_FIXTURES)
    .filter((e) => fs.statSync(path.join(NATIVE_FIXTURES, e)).isDirectory())
    .sort();
}

export function readExpected(file: string): Map<string, Tensor> {
  const f = SafetensorsFile.open(file);
  return new Map(f.names().map((n) => [n, f.read(n)]));
}

export function loadNativeCase(name: string): FixtureCase {
  const dir = path.join(NATIVE_FIXTURES, name);
  const configPath = path.join(dir, `${name}.transformer.json`);
  const weightsPath = path.join(dir, `${name}.safetensors`);
  const raw = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8')) as FixtureInput;
  const loaded = loadModel(configPath);
  const input: ModelInput = { ids: raw.ids };
  if (raw.decoder_ids) input.decoderIds = raw.decoder_ids;
  return { name, dir, configPath, weightsPath, loaded, raw, input, expected: readExpected(path.join(dir, 'expected.safetensors')) };
}
