import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  type AttributeProto,
  type TensorProto,
} from 'onnx-buf';

/**
 * An attribute value when emitting a node: an integer number is INT, `{ f }` is FLOAT, a number array is INTS,
 * a string is STRING, a TensorProto is TENSOR. Floats are tagged because a JS number cannot tell 1 from 1.0.
 */
export type AttrValue = number | { f: number } | number[] | string | TensorProto;

/** Builds one AttributeProto. */
export function makeAttribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'number')
    return create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(value) });
  if (typeof value === 'string')
    return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value))
    return create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: value.map((v) => BigInt(v)) });
  if ('f' in value) return create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: value.f });
  return create(AttributeProtoSchema, { name, type: AttrType.TENSOR, t: value });
}

// The readers live with the rest of the graph toolkit; the autodiff's rules know them by these names.
export {
  intAttr as attrInt,
  floatAttr as attrFloat,
  intsAttr as attrInts,
  stringAttr as attrString,
  tensorAttr as attrTensor,
} from '../graph/attributes.js';
