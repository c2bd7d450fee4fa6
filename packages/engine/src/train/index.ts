// Training on ONNX Runtime: one train-step graph (forward → loss → gradients → optimizer update) per run.
export { TrainSession } from './train-session.js';
export { TrainSetupError } from './train-errors.js';
export { countTargets } from './batch-feeds.js';
export { GradScaler, type GradScalerState, type LossScalingOptions } from './grad-scaler.js';
export type {
  TrainBatch,
  OptimizerSpec,
  TrainSessionOptions,
  SetupPhase,
  StepResult,
  EvalResult,
  HostTensor,
  OptimizerState,
  TrainOrt,
  TrainOrtSession,
  TrainOrtTensor,
} from './types.js';
