// @mor/transformers: MoR / LoRA adapters on transformers.js models, by rewriting the model's ONNX graph and
// swapping the patched session into the model. Devices, sessions and the platform are @mor/engine's.
export * from './errors.js';
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
export { resolveAdapter, type AdapterInput } from './adapter-input.js';
export { resolveGate, type GateSpec } from './gate-spec.js';
export type { GateCallback, GateOutputs } from './gate-tap.js';
export type { PatchOptions } from './graph-patch.js';
export { checkOptions, type OptionNames } from './check-options.js';
