import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
} from 'onnx-buf';

/** Values an attribute can be built from. Integers go as `{ int: n }` to tell them from floats. */
export type AttributeValue =
  { int: number } | { float: number } | { ints: number[] } | { string: string } | { tensor: TensorProto };

/** Builds an AttributeProto. */
export function attribute(name: string, value: AttributeValue): AttributeProto {
  if ('int' in value)
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.INT,
      i: BigInt(value.int),
    });
  if ('float' in value)
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value.float });
  if ('ints' in value) {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.INTS,
      ints: value.ints.map(BigInt),
    });
  }
  if ('string' in value) {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.STRING,
      s: new TextEncoder().encode(value.string),
    });
  }
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.TENSOR, t: value.tensor });
}

/** An integer attribute of a node, or `fallback` when absent. */
export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a === undefined ? fallback : Number(a.i);
}

/** A float attribute of a node, or `fallback` when absent. */
export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a === undefined ? fallback : a.f;
}

/** An ints attribute of a node, or undefined when absent. */
export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a === undefined ? undefined : a.ints.map(Number);
}

/** A string attribute of a node, or `fallback` when absent. */
export function stringAttr(node: NodeProto, name: string, fallback: string): string {
  const a = node.attribute.find((x) => x.name === name);
  return a === undefined ? fallback : new TextDecoder().decode(a.s);
}

/** A tensor attribute of a node (e.g. `Constant.value`), or undefined when absent. */
export function tensorAttr(node: NodeProto, name: string): TensorProto | undefined {
  return node.attribute.find((x) => x.name === name)?.t;
}
