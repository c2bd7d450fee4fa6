import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, TensorProto_DataType as DataType, type TensorProto } from 'onnx-buf';
import { AutodiffError } from './errors.js';

/** Float element types the emitted graphs may compute in. */
export type FloatType = DataType.FLOAT | DataType.DOUBLE;

/** True for the element types that carry gradients (floating point). */
export function isFloatType(t: number): boolean {
  return t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16 || t === DataType.BFLOAT16;
}

/** A float tensor of `floatType` holding `values` (row-major) with `dims` (`[]` is a scalar). */
export function floatTensor(name: string, floatType: number, values: number[], dims: number[]): TensorProto {
  const bigDims = dims.map((d) => BigInt(d));
  if (floatType === DataType.FLOAT)
    return create(TensorProtoSchema, { name, dims: bigDims, dataType: floatType, floatData: values });
  if (floatType === DataType.DOUBLE)
    return create(TensorProtoSchema, { name, dims: bigDims, dataType: floatType, doubleData: values });
  throw new AutodiffError(`emitted constants support float32 and float64 only, not data type ${floatType}`, {
    tensor: name,
  });
}

/** An int64 tensor holding `values` with `dims`. */
export function int64Tensor(name: string, values: number[], dims: number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: DataType.INT64,
    int64Data: values.map((v) => BigInt(v)),
  });
}
