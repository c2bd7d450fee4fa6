// Public API of the autodiff pass: reverse-mode gradients of ONNX graphs, losses, optimizers, train steps.
export {
  buildGradientGraph,
  type GradientGraphOptions,
  type GradientGraphResult,
} from './build-gradient-graph.js';
export { buildTrainStep, type TrainStep, type TrainStepOptions } from './build-train-step.js';
export { decomposeFusedOps, DECOMPOSABLE, type DecomposeOptions } from './decompose.js';
export { GRADIENT_RULES, type GradContext, type GradientRule } from './gradient-rules.js';
export { NO_GRADIENT } from './no-gradient.js';
export { AutodiffError } from './errors.js';
export { initializersToInputs } from './initializers-to-inputs.js';
export { addCausalLmLoss, type CausalLmLossOptions } from './losses/causal-lm-loss.js';
export { addClassificationLoss, type ClassificationLossOptions } from './losses/classification-loss.js';
export { IGNORE_INDEX } from './losses/cross-entropy.js';
export { emitSgdUpdate, type SgdUpdateOptions, type OptimizerOutputs } from './optim/emit-sgd.js';
export { emitAdamWUpdate, WEBGPU_MAX_FUSED_TENSORS, type AdamWUpdateOptions } from './optim/emit-adamw.js';
export { emitClipGradNorm, type ClipGradNormOptions } from './optim/emit-clip-grad-norm.js';
export { stateName, updatedName, type ParamGrad } from './optim/optimizer-io.js';
export { sgdReference, type SgdHyper } from './reference/sgd.js';
export { adamwReference, type AdamWHyper } from './reference/adamw.js';
export { learningRate, type LrSchedule } from './reference/lr-schedule.js';
export { clipGradNormReference } from './reference/clip-grad-norm.js';
