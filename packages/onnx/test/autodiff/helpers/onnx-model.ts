import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from 'onnx-buf';
import { attribute, type AttributeValue } from '../../../src/graph/attributes.js';
import { tensorValueInfo as valueInfo } from '../../../src/graph/value-info.js';
import type { StaticDim } from '../../../src/autodiff/static-info.js';

/**
 * Attribute short-hand of the hand-built test graphs: an integer number is INT, `{ f }` FLOAT, a number array
 * INTS, a string STRING, a TensorProto TENSOR.
 */
export type AttrValue = number | { f: number } | number[] | string | TensorProto;

function tagged(v: AttrValue): AttributeValue {
  if (typeof v === 'number') return { int: v };
  if (typeof v === 'string') return { string: v };
  if (Array.isArray(v)) return { ints: v };
  return 'f' in v ? { float: v.f } : { tensor: v };
}

/** A node for hand-built test graphs. */
export function node(
  opType: string,
  input: string[],
  output: string[],
  attrs: Record<string, AttrValue> = {},
  domain = '',
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    input,
    output,
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, tagged(v))),
    domain,
    name: `${opType}_${output[0]}`,
  });
}

/** A graph with typed inputs/outputs. */
export function graph(parts: {
  nodes: NodeProto[];
  inputs: { name: string; type: number; dims: StaticDim[] }[];
  outputs: { name: string; type: number; dims?: StaticDim[] }[];
}): GraphProto {
  return create(GraphProtoSchema, {
    name: 'test',
    node: parts.nodes,
    input: parts.inputs.map((i) => valueInfo(i.name, i.type, i.dims)),
    output: parts.outputs.map((o) => valueInfo(o.name, o.type, o.dims)),
  });
}

/** Serialized model around `g` (ai.onnx at `opset`, com.microsoft 1 when asked). */
export function modelBytes(g: GraphProto, opset = 17, microsoft = false): Uint8Array {
  const opsetImport = [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opset) })];
  if (microsoft) opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, { irVersion: 8n, opsetImport, graph: g }));
}

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}
