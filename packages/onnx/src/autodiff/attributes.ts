import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  type AttributeProto,
  type NodeProto,
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

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

/** Integer attribute, or `fallback` when absent. */
export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a === undefined ? fallback : Number(a.i);
}

/** Float attribute, or `fallback` when absent. */
export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a === undefined ? fallback : a.f;
}

/** Integer-list attribute, or `undefined` when absent. */
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a === undefined ? undefined : a.ints.map(Number);
}

/** String attribute, or `fallback` when absent. */
export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = find(node, name);
  return a === undefined ? fallback : new TextDecoder().decode(a.s);
}

/** Tensor attribute (e.g. `Constant.value`), or `undefined`. */
export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return find(node, name)?.t;
}
