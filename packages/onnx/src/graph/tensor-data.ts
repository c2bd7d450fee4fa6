import { create } from '@bufbuild/protobuf';
import {
  TensorProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  type TensorProto,
} from 'onnx-buf';
import { GraphError } from '../errors.js';
import { floatToHalf, halfToFloat } from './float16.js';

/** Number of elements of a tensor from its dims. */
export function tensorSize(t: TensorProto): number {
  return t.dims.reduce((a, d) => a * Number(d), 1);
}

/** The dims of a tensor as plain numbers. */
export function tensorDims(t: TensorProto): number[] {
  return t.dims.map(Number);
}

function assertInline(t: TensorProto): void {
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new GraphError(
      'tensor data is external and was not loaded (pass `externalData` to decodeModel)',
      t.name,
    );
  }
}

/**
 * The element count of a tensor whose data is about to be read, checked against the data it holds: `raw_data`
 * must have exactly `count × bytesPerElement` bytes, or the typed field (`float_data`, `int64_data`, …) exactly
 * `count` entries. The dims come from the file, so they are checked before anything is allocated from them
 * (dims [2^40] over 4 bytes of data must not allocate a terabyte, nor read past the data).
 *
 * @throws {GraphError} naming the tensor, for a negative dimension or data of the wrong size.
 */
function checkedElementCount(t: TensorProto, bytesPerElement: number, typedLength: number): number {
  const dims = `dims [${t.dims.join(', ')}]`;
  if (t.dims.some((d) => d < 0n)) throw new GraphError(`${dims} hold a negative size`, t.name);
  const n = tensorSize(t);
  const rawBytes = t.rawData.byteLength;
  if (rawBytes > 0 || typedLength === 0) {
    if (rawBytes !== n * bytesPerElement) {
      throw new GraphError(
        `${dims} need ${n} elements of ${bytesPerElement} bytes, but raw_data holds ${rawBytes} bytes`,
        t.name,
      );
    }
  } else if (typedLength !== n) {
    throw new GraphError(`${dims} need ${n} elements, but the tensor holds ${typedLength} values`, t.name);
  }
  return n;
}

/**
 * Reads a FLOAT, FLOAT16, BFLOAT16 or DOUBLE tensor as a Float32Array, from `raw_data` or the typed fields.
 * FLOAT tensors in aligned `raw_data` come back as a view without a copy.
 *
 * @throws {GraphError} for external data not loaded, another data type, or data that disagrees with the dims.
 */
export function tensorToFloat32(t: TensorProto): Float32Array {
  assertInline(t);
  const raw = t.rawData;
  const bytesPer = FLOAT_BYTES[t.dataType];
  if (bytesPer === undefined) {
    throw new GraphError(`expected a floating-point tensor, got data type ${t.dataType}`, t.name);
  }
  const typed =
    t.dataType === TensorProto_DataType.FLOAT
      ? t.floatData.length
      : t.dataType === TensorProto_DataType.DOUBLE
        ? t.doubleData.length
        : t.int32Data.length;
  const n = checkedElementCount(t, bytesPer, typed);
  const hasRaw = raw.byteLength > 0 || n === 0;
  switch (t.dataType) {
    case TensorProto_DataType.FLOAT: {
      if (!hasRaw) return Float32Array.from(t.floatData);
      if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
      // Copy through a new Uint8Array: a Node Buffer's slice() is a view of its (pooled) memory, not a copy.
      return new Float32Array(new Uint8Array(raw).buffer, 0, n);
    }
    case TensorProto_DataType.FLOAT16:
    case TensorProto_DataType.BFLOAT16: {
      const bits = new Uint16Array(n);
      if (hasRaw) {
        const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true);
      } else {
        for (let i = 0; i < n; i++) bits[i] = t.int32Data[i]! & 0xffff;
      }
      const out = new Float32Array(n);
      if (t.dataType === TensorProto_DataType.FLOAT16) {
        for (let i = 0; i < n; i++) out[i] = halfToFloat(bits[i]!);
      } else {
        const u = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) u[i] = bits[i]! << 16;
      }
      return out;
    }
    case TensorProto_DataType.DOUBLE: {
      if (!hasRaw) return Float32Array.from(t.doubleData);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    default:
      throw new GraphError(`expected a floating-point tensor, got data type ${t.dataType}`, t.name);
  }
}

/** Bytes per element of the float types {@link tensorToFloat32} reads. */
const FLOAT_BYTES: Partial<Record<number, number>> = {
  [TensorProto_DataType.FLOAT]: 4,
  [TensorProto_DataType.FLOAT16]: 2,
  [TensorProto_DataType.BFLOAT16]: 2,
  [TensorProto_DataType.DOUBLE]: 8,
};

/**
 * Reads an INT64 or INT32 tensor as numbers (shape constants, axes).
 *
 * @throws {GraphError} for external data not loaded, another data type, or data that disagrees with the dims.
 */
export function tensorToInts(t: TensorProto): number[] {
  assertInline(t);
  if (t.dataType === TensorProto_DataType.INT64) {
    const n = checkedElementCount(t, 8, t.int64Data.length);
    if (t.rawData.byteLength === 0) return t.int64Data.map(Number);
    const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    return Array.from({ length: n }, (_, i) => Number(dv.getBigInt64(8 * i, true)));
  }
  if (t.dataType === TensorProto_DataType.INT32) {
    const n = checkedElementCount(t, 4, t.int32Data.length);
    if (t.rawData.byteLength === 0) return [...t.int32Data];
    const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    return Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true));
  }
  throw new GraphError(`expected an integer tensor, got data type ${t.dataType}`, t.name);
}

/** Float element types graphs are emitted in (the compute type of a builder). */
export type FloatType =
  TensorProto_DataType.FLOAT | TensorProto_DataType.FLOAT16 | TensorProto_DataType.DOUBLE;

/** True for the element types that carry gradients (floating point). */
export function isFloatType(t: number): boolean {
  return (
    t === TensorProto_DataType.FLOAT ||
    t === TensorProto_DataType.DOUBLE ||
    t === TensorProto_DataType.FLOAT16 ||
    t === TensorProto_DataType.BFLOAT16
  );
}

/** Encodes values as `raw_data` of the given floating-point type (FLOAT, FLOAT16 or DOUBLE). */
export function encodeFloats(
  values: ArrayLike<number>,
  dataType: TensorProto_DataType,
): Uint8Array<ArrayBuffer> {
  if (dataType === TensorProto_DataType.FLOAT) return new Uint8Array(Float32Array.from(values).buffer);
  if (dataType === TensorProto_DataType.DOUBLE) return new Uint8Array(Float64Array.from(values).buffer);
  if (dataType === TensorProto_DataType.FLOAT16) {
    const bits = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) bits[i] = floatToHalf(values[i]!);
    return new Uint8Array(bits.buffer);
  }
  throw new GraphError(`cannot encode floats as data type ${dataType}`);
}

/** Replaces a tensor's data with `values` (same element count), keeping its data type (FLOAT or FLOAT16). */
export function setTensorFloats(t: TensorProto, values: Float32Array): void {
  if (values.length !== tensorSize(t)) {
    throw new GraphError(`expected ${tensorSize(t)} values, got ${values.length}`, t.name);
  }
  t.rawData = encodeFloats(values, t.dataType);
  t.floatData = [];
  t.int32Data = [];
  t.doubleData = [];
  t.externalData = [];
  t.dataLocation = TensorProto_DataLocation.DEFAULT;
}

/** A new FLOAT (FLOAT16, DOUBLE) tensor with raw data; `dims` `[]` is a scalar. */
export function floatTensor(
  name: string,
  dims: readonly number[],
  values: ArrayLike<number>,
  dataType: TensorProto_DataType = TensorProto_DataType.FLOAT,
): TensorProto {
  const n = dims.reduce((a, d) => a * d, 1);
  if (n !== values.length)
    throw new GraphError(`dims ${dims.join('x')} need ${n} values, got ${values.length}`, name);
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType,
    rawData: encodeFloats(values, dataType),
  });
}

/** A new INT64 tensor (shape constants, axes, K of TopK); dims first, as {@link floatTensor}. */
export function int64Tensor(
  name: string,
  dims: readonly number[],
  values: readonly (number | bigint)[],
): TensorProto {
  return rawTensor(name, dims, BigInt64Array.from(values, BigInt));
}

/** Typed arrays a tensor is built from by {@link rawTensor}. */
export type TensorArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

const ARRAY_TYPES: [new (n: number) => TensorArray, TensorProto_DataType][] = [
  [Float32Array, TensorProto_DataType.FLOAT],
  [Float64Array, TensorProto_DataType.DOUBLE],
  [Int8Array, TensorProto_DataType.INT8],
  [Uint8Array, TensorProto_DataType.UINT8],
  [Int32Array, TensorProto_DataType.INT32],
  [BigInt64Array, TensorProto_DataType.INT64],
];

/**
 * A tensor holding `data` as little-endian `raw_data`; its element type is the array's unless given (packed
 * 4-bit weights are UINT8 bytes of another type, for instance).
 */
export function rawTensor(
  name: string,
  dims: readonly number[],
  data: TensorArray,
  dataType = ARRAY_TYPES.find(([type]) => data instanceof type)![1],
): TensorProto {
  const n = dims.reduce((a, d) => a * d, 1);
  if (n !== data.length)
    throw new GraphError(`dims ${dims.join('x')} need ${n} values, got ${data.length}`, name);
  const rawData = new Uint8Array(data.byteLength);
  rawData.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType, rawData });
}
