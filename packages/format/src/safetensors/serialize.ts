import { SafetensorsError } from '../errors.js';
import {
  DTYPE_BYTES,
  HOST_IS_LITTLE_ENDIAN,
  WRITE_ORDER_RANK,
  elementCount,
  type WritableDtype,
} from './dtype.js';
import { float32ToBf16Bits, float32ToF16Bits } from './half.js';
import { METADATA_KEY } from './parse.js';

/** A tensor to write. */
export interface TensorToWrite {
  name: string;
  /** The dtype stored in the file. */
  dtype: WritableDtype;
  shape: number[];
  /**
   * Float32Array: values, converted to `dtype` (round to nearest even for F16/BF16).
   * Uint8Array: the tensor's little-endian bytes already in `dtype`, written as they are.
   */
  data: Float32Array | Uint8Array;
}

/**
 * Writes a safetensors file laid out exactly as the reference (Rust) writer used by PyTorch and PEFT lays it out:
 * compact JSON header with `__metadata__` first, tensors ordered by dtype (F32, BF16, F16) then name, header padded
 * with spaces to a multiple of 8 bytes, data contiguous in the same order. The same tensors therefore give the same
 * bytes whichever side wrote them.
 *
 * @param metadata written as `__metadata__` when given (PEFT writes `{ format: 'pt' }`).
 * @throws {SafetensorsError} for a duplicate or reserved name, a bad shape, or data whose length disagrees with the shape.
 */
export function serializeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): Uint8Array {
  const names = new Set<string>();
  for (const t of tensors) {
    const fail = (detail: string): never => {
      throw new SafetensorsError(detail, { tensorName: t.name });
    };
    if (t.name === '' || t.name === METADATA_KEY) fail('is not a usable tensor name');
    if (names.has(t.name)) fail('given twice');
    names.add(t.name);
    if (!Object.hasOwn(WRITE_ORDER_RANK, t.dtype))
      fail(`cannot write dtype ${JSON.stringify(t.dtype)} (F32, F16 or BF16)`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`shape ${JSON.stringify(t.shape)} is not valid`);
    const count = elementCount(t.shape);
    const have = t.data instanceof Float32Array ? t.data.length : t.data.byteLength / DTYPE_BYTES[t.dtype];
    if (have !== count) fail(`shape ${JSON.stringify(t.shape)} needs ${count} values, got ${have}`);
  }
  const ordered = [...tensors].sort(
    (a, b) => WRITE_ORDER_RANK[b.dtype] - WRITE_ORDER_RANK[a.dtype] || compareCodePoints(a.name, b.name),
  );

  // Built by hand, not with JSON.stringify of an object: objects move integer-like keys first, and order matters.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const entries = Object.keys(metadata).sort(compareCodePoints);
    parts.push(
      `"${METADATA_KEY}":{${entries.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`,
    );
  }
  let offset = 0;
  for (const t of ordered) {
    const size = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    const info = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(info)}`);
    offset += size;
  }
  let headerBytes = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padding = (8 - (headerBytes.length % 8)) % 8;
  if (padding > 0) {
    const padded = new Uint8Array(headerBytes.length + padding).fill(0x20);
    padded.set(headerBytes);
    headerBytes = padded;
  }

  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of ordered) {
    const bytes = encodeTensor(t);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

function encodeTensor(t: TensorToWrite): Uint8Array {
  if (t.data instanceof Uint8Array) return t.data;
  const values = t.data;
  if (t.dtype === 'F32') {
    if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const out = new Uint8Array(values.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return out;
  }
  const narrow = t.dtype === 'F16' ? float32ToF16Bits : float32ToBf16Bits;
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, narrow(values[i]!), true);
  return out;
}

/** Rust compares `String`s by UTF-8 bytes, i.e. by code point; JS `<` compares UTF-16 units. Match Rust. */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
