// @mor/onnx: ONNX model I/O (external data included), a small graph toolkit, linear-layer matching, the
// MoR/LoRA graph pass and static merges. Browser-safe: file-system helpers live in `@mor/onnx/node`.
export * from './errors.js';
export * from './proto.js';
export { decodeModel, type DecodeModelOptions } from './io/decode-model.js';
export {
  encodeModel,
  encodeModelBytes,
  type EncodeModelOptions,
  type EncodedModel,
  type ExternalDataFile,
} from './io/encode-model.js';
export { modelTensors, externalDataInfo } from './io/tensor-walk.js';
export { DEFAULT_OPSET, GraphIndex, modelGraph, opKey, opsetVersion } from './graph/graph-index.js';
export { UniqueNames } from './graph/unique-names.js';
export { GraphBuilder, type GraphBuilderOptions } from './graph/graph-builder.js';
export { attribute, intAttr, floatAttr, intsAttr, type AttributeValue } from './graph/attributes.js';
export {
  tensorToFloat32,
  tensorToInts,
  tensorDims,
  tensorSize,
  floatTensor,
  int64Tensor,
  rawTensor,
  type TensorArray,
  setTensorFloats,
  encodeFloats,
  isFloatType,
  type FloatType,
} from './graph/tensor-data.js';
export { halfToFloat, floatToHalf } from './graph/float16.js';
export { tensorValueInfo } from './graph/value-info.js';
export type { LinearLayer, LinearKind, WeightLayout } from './match/linear-layer.js';
export { findLinearLayers } from './match/find-linear-layers.js';
export { matchTargets, type ModuleShape } from './match/match-targets.js';
export { modulePathFromNodeName, modulePathFromInitializer } from './match/module-path.js';
export type {
  AdapterInput,
  MorAdapterInput,
  LoraAdapterInput,
  MoeLoraAdapterInput,
} from './pass/adapter-input.js';
export {
  applyAdapter,
  type ApplyAdapterOptions,
  type ApplyAdapterResult,
  type AdapterParam,
} from './pass/apply-adapter.js';
export {
  mergeStaticGate,
  mergeLora,
  MERGED_BRANCH_PREFIX,
  type MergeOptions,
} from './merge/merge-adapter.js';
export * from './autodiff/index.js';
