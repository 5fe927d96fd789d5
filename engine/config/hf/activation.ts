import type { Activation } from '../../kernels/ops';

/** Hugging Face activation names → the engine's, with the variant stated (exact vs. tanh GELU). */
export const HF_ACTIVATIONS: Record<string, Activation> = {
  relu: 'relu',
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  silu: 'silu',
  swish: 'silu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
};

/** The engine's activation for a Hugging Face name; null when the engine does not run it. */
export function hfActivation(name: string): Activation | null {
  return Object.prototype.hasOwnProperty.call(HF_ACTIVATIONS, name) ? HF_ACTIVATIONS[name] : null;
}
