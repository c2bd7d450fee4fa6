export * from './errors.js';
export * from './config.js';
export { jsonPreview, JSON_PREVIEW_CHARS } from './json-preview.js';
export * from './layer-weights.js';
export type { NumArray } from './shape-check.js';
export { MorRng, createRng, type RngState } from './rng.js';
export {
  initMorLayer,
  initLoraLayer,
  kaimingUniformBound,
  type InitMorLayerOptions,
  type InitLoraLayerOptions,
} from './init.js';
export {
  morParamCount,
  loraParamCount,
  moeLoraParamCount,
  totalMorParamCount,
  type LayerShape,
} from './param-count.js';
export { checkMorLayer } from './check-layer.js';
export {
  routingFromConfig,
  uniformGate,
  checkRouting,
  routeLogits,
  routerLogitGrad,
  type MorRouting,
} from './routing.js';
export { morForward, morForwardF64, type MorForwardOptions, type MorForwardResult } from './forward.js';
export { morBackward, morBackwardF64, type MorBackwardOptions, type MorGradients } from './backward.js';
export { loadBalanceLoss, type LoadBalanceOptions, type LoadBalanceResult } from './load-balance.js';
export {
  staticCollapse,
  staticLoraWeights,
  staticDeltaWeight,
  loraDeltaWeight,
  type StaticCollapse,
  type StaticCollapseOptions,
  type StaticDeltaWeightOptions,
} from './static-collapse.js';
export { expandB, expandedDelta, type ExpandedDeltaOptions } from './expand-b.js';
export { loraForward, type LoraForwardOptions } from './lora-forward.js';
export { checkMoeLoraLayer, type MoeLoraLayerWeights, type MoeLoraLayerParams } from './moelora-layer.js';
export { initMoeLoraLayer, type InitMoeLoraLayerOptions } from './moelora-init.js';
export { moeLoraFromMor } from './moelora-from-mor.js';
export {
  moeLoraForward,
  moeLoraForwardF64,
  type MoeLoraForwardOptions,
  type MoeLoraForwardResult,
  type MoeLoraRouting,
} from './moelora-forward.js';
export {
  moeLoraBackward,
  moeLoraBackwardF64,
  type MoeLoraBackwardOptions,
  type MoeLoraGradients,
} from './moelora-backward.js';
