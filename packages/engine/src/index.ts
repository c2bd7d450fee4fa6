// @mor/engine: where adapted graphs run. The platform registry (the host lends onnxruntime-node, files and device
// checks; `@mor/engine/node` registers Node's), the one onnxruntime typing, device choice and probing (cpu, wasm,
// webgpu, cuda), session opening and recording, and the train session (one train-step graph per run, its state on
// the device). Browser-safe: nothing here imports Node.
export * from './errors.js';
export {
  registerPlatform,
  registeredPlatform,
  requirePlatform,
  PlatformMissingError,
  type MorPlatform,
} from './platform.js';
export {
  MOR_DEVICES,
  checkDevice,
  defaultDevice,
  devicesHere,
  explainDeviceFailure,
  type MorDevice,
} from './devices.js';
export { transformersOrt, runningInNode } from './ort-module.js';
export {
  sessionClassOf,
  type OrtModuleLike,
  type OrtSessionClass,
  type OrtSessionLike,
  type OrtSessionOptions,
  type OrtTensorLike,
} from './ort-types.js';
export {
  encodeForSession,
  openSessionModel,
  type CreateSession,
  type SessionModel,
} from './session-model.js';
export { withSessionRecording, getSessionSource, type SessionSource } from './session-sources.js';
export {
  TrainSession,
  TrainSetupError,
  GradScaler,
  type GradScalerState,
  type LossScalingOptions,
  type TrainBatch,
  type OptimizerSpec,
  type OptimizerState,
  type TrainSessionOptions,
  type SetupPhase,
  type TrainOrt,
  type HostTensor,
  type StepResult as TrainStepResult,
  type EvalResult as TrainEvalResult,
} from './train/index.js';
