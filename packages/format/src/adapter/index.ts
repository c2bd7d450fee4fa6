export { adapterConfigObject } from './config-json.js';
export {
  createLoraAdapter,
  createMoeLoraAdapter,
  createMorAdapter,
  type CreateLoraAdapterInit,
  type CreateMoeLoraAdapterInit,
  type CreateMorAdapterInit,
} from './create.js';
export { adapterLayerParameterCounts, adapterParameterCount } from './param-count.js';
export { parseAdapter, type ParseAdapterOptions } from './parse.js';
export { serializeAdapter, type SerializeAdapterOptions } from './serialize.js';
export {
  LORA_SUFFIXES,
  MOELORA_ROUTER_SUFFIXES,
  MOR_SUFFIXES,
  adapterTensorName,
  moeLoraExpertSuffix,
} from './tensor-names.js';
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_KIND_LABELS,
  PEFT_TYPES,
  ADAPTER_WEIGHTS_FILE,
  MOR_FORMAT_VERSION,
  PEFT_PREFIX,
  type Adapter,
  type AdapterDtype,
  type LoraAdapter,
  type MoeLoraAdapter,
  type MorAdapter,
} from './types.js';
export {
  validateAdapterAgainstModel,
  type BaseLayerShape,
  type ValidateAgainstModelOptions,
} from './validate-model.js';
