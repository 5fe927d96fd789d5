/**
 * Every id the extension shares with package.json, in one place (test/unit/host-manifest.test.ts
 * checks that the two agree).
 */

export const COMMAND = {
  open: 'transformerInspector.open',
  setInput: 'transformerInspector.setInput',
  stepForward: 'transformerInspector.stepForward',
  stepBack: 'transformerInspector.stepBack',
  runToEnd: 'transformerInspector.runToEnd',
  reset: 'transformerInspector.reset',
  showParameters: 'transformerInspector.showParameters',
  exportTensor: 'transformerInspector.exportTensor',
  quantizeModel: 'transformerInspector.quantizeModel',
  compareWith: 'transformerInspector.compareWith',
  addToAblation: 'transformerInspector.addToAblation',
  removeFromAblation: 'transformerInspector.removeFromAblation',
  generateNextToken: 'transformerInspector.generateNextToken',
} as const;

/** Commands used by the extension's own UI (tree items), not contributed to the palette. */
export const INTERNAL_COMMAND = {
  revealNode: 'transformerInspector.revealNode',
  /** Open a config and show its parameter breakdown (the CodeLens). */
  openParameters: 'transformerInspector.openParameters',
} as const;

export const VIEW_TYPE = 'transformerInspector.panel';
/** The read-only editor of `.gguf` files (their metadata). */
export const GGUF_EDITOR = 'transformerInspector.gguf';
export const VIEW_CONTAINER = 'transformerInspector';
export const TREE_VIEW = 'transformerInspector.model';

/** Context keys for `when` and `enablement` clauses. */
export const CONTEXT = {
  /** The inspector panel exists (visible or not). */
  panelOpen: 'transformerInspector.panelOpen',
  /** The panel shows a config (runnable or not: a Hugging Face config shows its analysis). */
  configOpen: 'transformerInspector.configOpen',
  /** A model is built in the worker and can be stepped. */
  modelLoaded: 'transformerInspector.modelLoaded',
  /** The cursor is on a step (not before the first one). */
  hasStep: 'transformerInspector.hasStep',
  /** The cursor is on the last step of a finished pass. */
  atEnd: 'transformerInspector.atEnd',
  /** The active text editor holds a config the inspector recognises. */
  configEditor: 'transformerInspector.configEditor',
} as const;

export const SETTING = {
  memoryBudget: 'memoryBudgetMB',
  section: 'transformerInspector',
  openOnStartup: 'openOnStartup',
  threads: 'threads',
} as const;

/** The engine's kernel threads (engine/kernels reads it when its thread pool starts). */
export const ENV_THREADS = 'TRANSFORMER_INSPECTOR_THREADS';

/** A config path to open in the inspector when the extension activates (`npm start` sets it). */
export const ENV_OPEN = 'TRANSFORMER_INSPECTOR_OPEN';

export const OUTPUT_CHANNEL = 'Transformer Inspector';
export const DIAGNOSTIC_SOURCE = 'Transformer Inspector';
