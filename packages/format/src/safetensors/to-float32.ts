import { SafetensorsError } from '../errors.js';
import { HOST_IS_LITTLE_ENDIAN } from './dtype.js';
import { bf16BitsToFloat32, f16BitsToFloat32 } from './half.js';
import type { SafetensorsReadOptions, SafetensorsTensor } from './types.js';

/**
 * A tensor's values as float32. F32 data that is 4-byte aligned (the usual case: safetensors pads its header to
 * 8 bytes) comes back as a zero-copy view into the file bytes — writes to it write the file bytes. F16 and BF16
 * widen exactly; F64 rounds to nearest float32. Other dtypes are refused.
 *
 * @throws {SafetensorsError} for a dtype that is not a float type.
 */
export function tensorToFloat32(
  tensor: SafetensorsTensor,
  options: SafetensorsReadOptions = {},
): Float32Array {
  const { data, dtype } = tensor;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (dtype) {
    case 'F32': {
      if (HOST_IS_LITTLE_ENDIAN && data.byteOffset % 4 === 0) {
        return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
      }
      const out = new Float32Array(data.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16':
    case 'BF16': {
      const widen = dtype === 'F16' ? f16BitsToFloat32 : bf16BitsToFloat32;
      const out = new Float32Array(data.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = widen(view.getUint16(i * 2, true));
      return out;
    }
    case 'F64': {
      const out = new Float32Array(data.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    default:
      throw new SafetensorsError(`dtype ${dtype} cannot be converted to float32 (only F32, F16, BF16, F64)`, {
        fileName: options.fileName,
        tensorName: tensor.name,
      });
  }
}
