export { buildLlama, type LlamaOptions } from './llama.js';
export { buildQwen2, type Qwen2Options } from './qwen2.js';
export { buildGpt2, type Gpt2Options } from './gpt2.js';
export { buildBertForSequenceClassification, type BertOptions } from './bert.js';
export type { RotaryDecoderOptions } from './rotary-decoder.js';
export { writeModelDir } from './write-model-dir.js';
export { ModelSpecError } from './model-graph.js';
export {
  dequantizeNBits,
  quantizeInt8,
  quantizeDynamicWeight,
  quantizeNBits,
  type DynamicQuantWeight,
  NBITS_BLOCK_SIZE,
  type NBitsWeight,
} from './quantize.js';
export { SeededRng } from './rng.js';
export { BPE_SPECIAL, BPE_VOCAB_SIZE, wordPieceVocab } from './tokenizers.js';
export type { BuiltModel, CommonOptions, LinearForm, LinearInfo, QuantizeMode } from './types.js';
export {
  randomMorAdapter,
  randomLoraAdapter,
  type RandomMorOptions,
  type TargetLayer,
} from './random-adapters.js';
export {
  buildBuilderForm,
  buildLlamaBuilderForm,
  buildQwen2BuilderForm,
  type BuilderFormOptions,
  type BuilderRotary,
} from './builder-form/decoder.js';
export { Q4_BLOCK, dequantizedQ4, quantizeRowsQ4, type Q4Rows } from './builder-form/quantize-q4.js';
export {
  quantizeMatMulsNBits,
  quantizeMatMulsDynamic,
  type DynamicQuantizeOptions,
  type QuantizeModelOptions,
  type QuantizeModelReport,
} from './quantize-model.js';
export { convertFloatType, FLOAT16_MAX, type FloatTypeReport } from './float-type.js';
export { DERIVED_DTYPES, toDtype, writeDtypeFile, type DerivedDtype } from './dtype-files.js';
export { builtModelFromExport } from './builder-form/from-export.js';
export { int8Twin, q4Twin } from './twins.js';
export { webgpuSkipReason } from './webgpu-skip.js';
