// @mor/trainer (browser-safe part): data rows → tokenized examples → batches, the seeded data order, the training
// loop over a train session (@mor/engine's TrainSession), evaluation, and fresh adapters sized from the model graph.
// Files: `@mor/trainer/node`.
export * from './data/index.js';
export { TrainDataError, TrainConfigError } from './errors.js';
export type { TrainSessionLike } from './session-types.js';
export {
  initAdapterForModel,
  targetLayers,
  wrapperScope,
  type InitAdapterForModelOptions,
} from './init-adapter-for-model.js';
export { defaultTargets } from './default-targets.js';
export {
  runTrainLoop,
  stepsForEpochs,
  type LoopState,
  type TrainLoopOptions,
  type TrainLoopResult,
} from './train-loop.js';
export { crossEntropySums, type LossSums } from './eval/cross-entropy.js';
export { evaluateInBatches, type EvalMetrics, type EvaluateOptions } from './eval/eval-metrics.js';
export { evaluateWithSession } from './eval/evaluate-with-session.js';
export { evaluateWithModel } from './eval/evaluate-with-model.js';
