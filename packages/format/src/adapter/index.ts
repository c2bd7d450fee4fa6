export { adapterConfigObject } from './config-json.js';
export {
  createLoraAdapter,
  createMorAdapter,
  type CreateLoraAdapterInit,
  type CreateMorAdapterInit,
} from './create.js';
export { adapterParameterCount } from './param-count.js';
export { parseAdapter, type ParseAdapterOptions } from './parse.js';
export { serializeAdapter, type SerializeAdapterOptions } from './serialize.js';
export { LORA_SUFFIXES, MOR_SUFFIXES, adapterTensorName } from './tensor-names.js';
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  MOR_FORMAT_VERSION,
  PEFT_PREFIX,
  type Adapter,
  type AdapterDtype,
  type LoraAdapter,
  type MorAdapter,
} from './types.js';
export {
  validateAdapterAgainstModel,
  type BaseLayerShape,
  type ValidateAgainstModelOptions,
} from './validate-model.js';
