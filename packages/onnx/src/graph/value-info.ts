import { create } from '@bufbuild/protobuf';
import {
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type ValueInfoProto,
} from 'onnx-buf';

/**
 * A tensor ValueInfo. `dims` entries are sizes or symbolic names (a name starting with `?` is an unknown dim
 * that stays unnamed); omit `dims` for an unknown shape.
 */
export function tensorValueInfo(
  name: string,
  elemType: TensorProto_DataType = TensorProto_DataType.FLOAT,
  dims?: ReadonlyArray<number | string>,
): ValueInfoProto {
  const shape =
    dims === undefined
      ? undefined
      : create(TensorShapeProtoSchema, {
          dim: dims.map((d) =>
            create(TensorShapeProto_DimensionSchema, {
              value:
                typeof d === 'number'
                  ? { case: 'dimValue', value: BigInt(d) }
                  : d.startsWith('?')
                    ? { case: undefined }
                    : { case: 'dimParam', value: d },
            }),
          ),
        });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, { elemType, ...(shape ? { shape } : {}) }),
      },
    }),
  });
}
