/**
 * BERT's model class comes from `architectures` (issue 8). transformers builds the class named there
 * (AutoModel on a config without `architectures` builds BertModel: pooler, no head); the analysis
 * counts that class. The engine runs BERT only with its masked-LM head, so it builds BertForMaskedLM /
 * BertLMHeadModel and refuses every other class by the key `architectures` (analysed, not run) —
 * the analysis and the engine never give two numbers for one config.
 * Counts from transformers 5.18 (`sum(p.numel() for p in AutoModel.from_config(c).parameters())`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeConfig } from '../../engine/analysis';
import { describeModel } from '../../engine/model/describe';
import { expandTensors } from '../../engine/analysis/params';
import { isInspectorError } from '../../engine/errors';
import type { JsonObject } from '../../engine/config/json';

const tiny: JsonObject = {
  model_type: 'bert',
  vocab_size: 30,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  max_position_embeddings: 16,
  type_vocab_size: 2,
};
const withClass = (cls: string | null): JsonObject => (cls ? { ...tiny, architectures: [cls] } : tiny);

const refusedByArchitectures = (cfg: JsonObject, cls: string) =>
  assert.throws(
    () => describeModel(cfg, { native: false }),
    (e: unknown) =>
      isInspectorError(e) &&
      e.place.key === 'architectures' &&
      e.message.startsWith(cls) &&
      /analysed/.test(e.message),
    cls,
  );

test('BertModel (named, or no architectures): counted as transformers builds it, pooler and no head; the engine refuses it by architectures', () => {
  for (const cls of ['BertModel', null]) {
    const cfg = withClass(cls);
    const a = analyzeConfig(cfg);
    assert.equal(a.modelClass, 'BertModel');
    assert.equal(a.params.total, 1004n, 'BertModel(config): 1,004 parameters in transformers 5.18');
    const names = expandTensors(a.arch).map((t) => t.name);
    assert.ok(names.includes('pooler.dense.weight'));
    assert.ok(!names.some((n) => n.startsWith('cls.')), 'no MLM head in BertModel');
    refusedByArchitectures(cfg, 'BertModel');
  }
});

for (const cls of ['BertForMaskedLM', 'BertLMHeadModel'])
  test(`${cls}: the engine allocates exactly the tensors the analysis counts (1,050 as in transformers)`, () => {
    const cfg = withClass(cls);
    const a = analyzeConfig(cfg);
    assert.equal(a.params.total, 1050n, `${cls}(config): 1,050 parameters in transformers 5.18`);
    const d = describeModel(cfg, { native: false });
    const model = d.build(d.spec);
    assert.equal(BigInt(model.parameterCount()), a.params.total);
    const listed = expandTensors(a.arch)
      .map((t) => t.name)
      .sort();
    assert.deepEqual([...model.parameters.keys()].sort(), listed);
  });

test('the other heads (pooler/NSP, classifiers, QA) are analysed and refused to run, by architectures', () => {
  const counts: Record<string, bigint> = {
    BertForPreTraining: 1140n,
    BertForNextSentencePrediction: 1022n,
    BertForSequenceClassification: 1022n,
    BertForTokenClassification: 950n,
    BertForQuestionAnswering: 950n,
  };
  for (const [cls, n] of Object.entries(counts)) {
    assert.equal(analyzeConfig(withClass(cls)).params.total, n, cls);
    refusedByArchitectures(withClass(cls), cls);
  }
});
