// @mor/transformers: MoR / LoRA adapters on transformers.js models, by rewriting the model's ONNX graph and
// swapping the patched session into the model.
export * from './errors.js';
export { registerPlatform, registeredPlatform, PlatformMissingError, type MorPlatform } from './platform.js';
export { attachAdapter, detachAdapter, swapAdapter, getAttachedAdapter } from './attach-adapter.js';
export type { AttachAdapterOptions, AttachedAdapter, ModelWithSessions } from './attach-adapter.js';
export {
  loadWithAdapter,
  pipelineWithAdapter,
  MorModelForCausalLM,
  MorModelForSequenceClassification,
} from './load-with-adapter.js';
export type { LoadWithAdapterOptions, ModelClass } from './load-with-adapter.js';
export { forwardLogits, type ForwardLogitsOptions, type LogitsResult } from './forward-logits.js';
export { withSessionRecording, getSessionSource, type SessionSource } from './session-sources.js';
export { resolveAdapter, type AdapterInput } from './adapter-input.js';
export { resolveGate, type GateSpec } from './gate-spec.js';
export type { GateCallback, GateOutputs } from './gate-tap.js';
export type { PatchOptions } from './graph-patch.js';
export { MOR_DEVICES, checkDevice, defaultDevice, devicesHere, type MorDevice } from './devices.js';
export type { OrtSessionLike, OrtTensorLike, OrtSessionOptions } from './ort-types.js';
export * from './trainer/index.js';
export {
  TrainSession,
  TrainSetupError,
  type TrainSessionOptions,
  type TrainOrt,
  type HostTensor,
  type StepResult as TrainStepResult,
  type EvalResult as TrainEvalResult,
} from './train/index.js';
