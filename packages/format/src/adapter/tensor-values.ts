import { AdapterFormatError } from '../errors.js';
import { tensorToFloat32 } from '../safetensors/to-float32.js';
import type { SafetensorsTensor } from '../safetensors/types.js';
import type { AdapterDtype } from './types.js';

const ADAPTER_DTYPES: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16']);

/**
 * A tensor's values as an owned float32 copy (the adapter outlives the file bytes, and training updates weights
 * in place), refusing dtypes other than F32/F16/BF16 and any NaN or ±Inf.
 */
export function readAdapterTensor(tensor: SafetensorsTensor, fileName: string): Float32Array {
  checkAdapterDtype(tensor, fileName);
  const values = tensorToFloat32(tensor, { fileName }).slice();
  assertFinite(values, fileName, tensor.name);
  return values;
}

/** Refuses a dtype other than F32/F16/BF16 (integer or F64 tensors have no place in an adapter). */
export function checkAdapterDtype(tensor: SafetensorsTensor, fileName: string): void {
  if (!ADAPTER_DTYPES.has(tensor.dtype)) {
    throw new AdapterFormatError(`dtype ${tensor.dtype} is not an adapter dtype (F32, F16 or BF16)`, {
      fileName,
      tensorName: tensor.name,
    });
  }
}

/** Refuses NaN/±Inf, naming the tensor and the first bad element. */
export function assertFinite(values: Float32Array, fileName: string | undefined, tensorName: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new AdapterFormatError(`non-finite value ${v} at element ${i} (NaN and ±Inf are refused)`, {
        fileName,
        tensorName,
      });
    }
  }
}

/** The dtype of the file: the common dtype of all tensors, or F32 (which holds F16/BF16 exactly) when they mix. */
export function commonDtype(tensors: Iterable<SafetensorsTensor>): AdapterDtype {
  const seen = new Set<string>();
  for (const t of tensors) seen.add(t.dtype);
  if (seen.size === 1) {
    const [only] = seen;
    if (only === 'F16' || only === 'BF16') return only;
  }
  return 'F32';
}
