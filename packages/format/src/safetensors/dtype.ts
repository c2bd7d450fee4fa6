/**
 * The safetensors dtypes this package reads. Every one has a whole-byte element size, so a tensor's bytes can be
 * handed out raw; F32/F16/BF16/F64 also convert to float32 ({@link tensorToFloat32}). Sub-byte types (F4, F6_*)
 * are refused as unknown.
 */
export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/** The float dtypes this package writes. */
export type WritableDtype = 'F32' | 'F16' | 'BF16';

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

/**
 * The rank of a writable dtype in the reference (Rust) writer's `Dtype` enum. That writer orders tensors by this
 * rank, largest first, then by name; we follow it so files we write match files PyTorch/PEFT write byte for byte.
 */
export const WRITE_ORDER_RANK: Readonly<Record<WritableDtype, number>> = { F16: 11, BF16: 12, F32: 15 };

/** Number of elements of a shape (1 for a scalar `[]`). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True when the host stores multi-byte numbers little-endian, as safetensors does: typed-array views are then exact. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
