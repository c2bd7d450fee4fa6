import { create } from '@bufbuild/protobuf';
import {
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import type { StaticDim } from './static-info.js';

/** A graph output declaration of `elemType` with `shape` (dims unknown when not given). */
export function valueInfo(name: string, elemType: number, shape?: StaticDim[]) {
  const dim = shape?.map((d) =>
    create(TensorShapeProto_DimensionSchema, {
      value:
        typeof d === 'number'
          ? { case: 'dimValue', value: BigInt(d) }
          : d.startsWith('?') // an unnamed unknown dimension stays unnamed
            ? { case: undefined }
            : { case: 'dimParam', value: d },
    }),
  );
  const tensor = create(TypeProto_TensorSchema, {
    elemType,
    shape: dim && create(TensorShapeProtoSchema, { dim }),
  });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensor } }),
  });
}
