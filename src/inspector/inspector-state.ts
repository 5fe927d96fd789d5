import type { InputLimits, StepSummary } from '../../protocol/worker';
import type { ModelNode } from '../../protocol/tree';
import type { GenerationInfo, ModelInfo, PatchedRunLabel } from '../../protocol/webview';
import type { QuantReport } from '../../protocol/quant';
import type { AblationChoice } from './ablation-set';

/** What the sidebar and the tests read. */
export interface InspectorState {
  configPath?: string;
  panelOpen: boolean;
  modelLoaded: boolean;
  model?: ModelInfo;
  tree?: ModelNode;
  limits?: InputLimits;
  steps: readonly StepSummary[];
  /** The current step's name, or undefined before the first step. */
  stepName?: string;
  stepIndex: number;
  atEnd: boolean;
  /** The last failure shown for this config (load or step), if any. */
  failure?: string;
  /** The engine's report after Quantize Model…, while the quantized model is kept. */
  quant?: QuantReport;
  /** The current hook float vs quantized, as last shown. */
  quantStep?: { name: string; rel_error: number; head?: number };
  /** Compare With…: the hook the open comparison shows, and the two models when it compares models. */
  comparison?: { hook: string; models?: { a: string; b: string } };
  /** The patched run the stepper walks (a patching cell opened), if any. */
  patched?: PatchedRunLabel;
  /** The parts chosen for ablation (sidebar and detector grid). */
  ablation: AblationChoice;
  /** After Generate Next Token: the tokens appended and the position whose steps are shown. */
  generation?: GenerationInfo;
}
