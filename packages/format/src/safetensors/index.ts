export { DTYPE_BYTES, elementCount, type SafetensorsDtype, type WritableDtype } from './dtype.js';
export { bf16BitsToFloat32, f16BitsToFloat32, float32ToBf16Bits, float32ToF16Bits } from './half.js';
export { MAX_HEADER_BYTES, METADATA_KEY, parseSafetensors } from './parse.js';
export { serializeSafetensors, type TensorToWrite } from './serialize.js';
export { tensorToFloat32 } from './to-float32.js';
export type { SafetensorsFile, SafetensorsReadOptions, SafetensorsTensor } from './types.js';
