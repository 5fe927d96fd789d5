import type { ModelInput, TransformerModel } from '../model/transformer';
import type { Step } from '../trace/step';
import { runTrace } from '../trace/step';
import type { QuantizedModel } from './quantize-model';
import { relError } from './metrics';

/**
 * The same input through the float and the quantized model, step by step: every hook's tensor in both,
 * and ‖a_fp − a_q‖/‖a_fp‖ — where quantization error enters the activations and how it grows with depth.
 * The model is left quantized.
 */
export interface HookComparison {
  name: string;
  rel_error: number;
  fp: Step;
  quantized: Step;
}

export function compareHooks(model: TransformerModel, quantized: QuantizedModel, input: ModelInput): HookComparison[] {
  quantized.restore();
  let fp: Step[];
  try {
    fp = runTrace(model.forward(input)).steps;
  } finally {
    quantized.apply();
  }
  const q = runTrace(model.forward(input)).steps;
  return fp.map((s, i) => ({ name: s.name, rel_error: relError(s.tensor.data, q[i].tensor.data), fp: s, quantized: q[i] }));
}
