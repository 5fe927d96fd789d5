/**
 * Every golden fixture the engine runs (test/fixtures/hf and test/fixtures/native), loaded with its input,
 * for the analyses' identity tests: one case per family and variant.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel, type LoadedModel } from '../../engine/model/load';
import type { ModelInput } from '../../engine/model/transformer';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');

export interface AnalysisCase {
  name: string;
  dir: string;
  loaded: LoadedModel;
  input: ModelInput;
  /** A single-stack model: a pass can resume at a block. */
  singleStack: boolean;
}

interface RawInput {
  input_ids?: number[][];
  ids?: number[][];
  token_type_ids?: number[][];
  attention_mask?: number[][];
  decoder_input_ids?: number[][];
  decoder_ids?: number[][];
  decoder_attention_mask?: number[][];
}

export function analysisCases(): AnalysisCase[] {
  const cases: AnalysisCase[] = [];
  for (const group of ['hf', 'native']) {
    const root = path.join(FIXTURES, group);
    for (const name of fs.readdirSync(root).sort()) {
      const dir = path.join(root, name);
      if (!fs.existsSync(path.join(dir, 'input.json'))) continue;
      const raw = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8')) as RawInput;
      const loaded = loadModel(dir);
      const input: ModelInput = {
        ids: (raw.input_ids ?? raw.ids)!,
        tokenTypeIds: raw.token_type_ids,
        attentionMask: raw.attention_mask,
        decoderIds: raw.decoder_input_ids ?? raw.decoder_ids,
        decoderAttentionMask: raw.decoder_attention_mask,
      };
      cases.push({ name: `${group}/${name}`, dir, loaded, input, singleStack: !loaded.model.decoder });
    }
  }
  return cases;
}

/** The largest relative difference |a − b| / max(|b|, floor) over two arrays of the same length. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}
