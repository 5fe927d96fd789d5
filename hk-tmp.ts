import { loadModel } from './engine/model/load';
import { runTrace } from './engine/trace/step';
for (const dir of process.argv.slice(2)) {
  const { model } = loadModel(dir);
  const enc = model.spec.architecture === 'encoder-decoder';
  const { steps } = runTrace(model.forward({ ids: [[1, 2, 3]], ...(enc ? { decoderIds: [[1, 2]] } : {}) }));
  const seen = new Map<string, string>();
  for (const s of steps) seen.set(s.name.replace(/\.\d+\./g, '.N.'), `[${s.tensor.shape.join(',')}] ${s.dims.join(',')}`);
  console.log(dir, model.spec.attention.kind, model.spec.ffn, model.spec.positional.kind, model.spec.numHeads, model.spec.kvHeads, model.spec.headDim);
  for (const [k, v] of seen) console.log('  ', k, v);
}
