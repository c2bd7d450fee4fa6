import { create, toBinary } from '@bufbuild/protobuf';
import {
  DEFAULT_OPSET,
  GraphBuilder,
  UniqueNames,
  floatTensor,
  int64Tensor,
  rawTensor,
  tensorValueInfo,
  type TensorArray,
} from '@mor/onnx';
import { GraphProtoSchema, ModelProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';

/** ONNX TensorProto.DataType codes used by the builders. */
export const DType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DTypeCode = (typeof DType)[keyof typeof DType];

/** Largest int64 (TorchScript uses it as the open end of slices). */
export const INT64_MAX = 9223372036854775807n;

/** Thrown when a builder is asked for something inconsistent (duplicate names, bad options). */
export class ModelSpecError extends Error {
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ModelSpecError';
  }
}

/**
 * One model being built in the naming scheme of torch's TorchScript exporter: nodes go through @mor/onnx's
 * `GraphBuilder` of their scope (`${scope}/${Op}`, then `_1`, `_2`, … for repeats; outputs `${node}_output_0`);
 * this adds what a whole model has besides nodes — inputs, outputs, initializers under exact names (transposed
 * linear weights as `onnx::MatMul_N`), opset imports.
 */
export interface ModelGraph {
  /** The builder of nodes in `scope` (one per scope, all sharing the model's names). */
  at(scope: string): GraphBuilder;
  /** Declare a graph input. */
  input(name: string, elemType: DTypeCode, dims: (number | string)[]): string;
  /** Declare a graph output (the tensor must be produced by a node under this name). */
  output(name: string, elemType: DTypeCode, dims: (number | string)[]): void;
  /** Add an initializer under an exact name (its type follows `data` unless `dtype`). */
  initializer(name: string, dims: number[], data: TensorArray, dtype?: DTypeCode): string;
  /** A fresh TorchScript-style anonymous name such as `onnx::MatMul_612`. */
  exportName(kind: string): string;
  /** Register an extra operator set (e.g. `com.microsoft` for MatMulNBits). */
  useDomain(domain: string, version: number): void;
  /** Compute a value once per model (e.g. the quantized form of an activation shared by q/k/v). */
  once<T>(key: string, make: () => T): T;
  /** Serialize as an opset-17 ModelProto (IR version 8, like torch 2.x exports). */
  toBytes(producer?: string, graphName?: string): Uint8Array;
}

/** A new, empty model; anonymous export names count from `firstExportId`. */
export function createModelGraph(firstExportId = 600): ModelGraph {
  const graph = create(GraphProtoSchema, { name: 'main_graph' });
  const names = new UniqueNames(graph);
  const scopes = new Map<string, GraphBuilder>();
  const memo = new Map<string, unknown>();
  const domains = new Map<string, number>([['', DEFAULT_OPSET]]);
  let exportCounter = firstExportId;
  const claim = (name: string) => {
    if (names.has(name)) throw new ModelSpecError(`duplicate tensor name ${name}`, { name });
    return names.claim(name);
  };
  return {
    at(scope) {
      if (!scopes.has(scope))
        scopes.set(scope, new GraphBuilder(graph, { scope, opset: DEFAULT_OPSET, names }));
      return scopes.get(scope)!;
    },
    input(name, elemType, dims) {
      graph.input.push(tensorValueInfo(claim(name), elemType, dims));
      return name;
    },
    output(name, elemType, dims) {
      graph.output.push(tensorValueInfo(name, elemType, dims));
    },
    initializer(name, dims, data, dtype) {
      const expected = dims.reduce((a, b) => a * b, 1);
      if (expected !== data.length)
        throw new ModelSpecError(`initializer ${name}: ${data.length} values for shape [${dims}]`, {
          name,
          dims,
        });
      graph.initializer.push(rawTensor(claim(name), dims, data, dtype));
      return name;
    },
    exportName: (kind) => `onnx::${kind}_${exportCounter++}`,
    useDomain: (domain, version) => void domains.set(domain, version),
    once<T>(key: string, make: () => T): T {
      if (!memo.has(key)) memo.set(key, make());
      return memo.get(key) as T;
    },
    toBytes(producer = 'pytorch', graphName = 'main_graph') {
      const opsetImport = [...domains].map(([domain, version]) =>
        create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }),
      );
      graph.name = graphName;
      const model = create(ModelProtoSchema, {
        irVersion: 8n,
        producerName: producer,
        producerVersion: '2.11.0',
        opsetImport,
        graph,
      });
      return toBinary(ModelProtoSchema, model);
    },
  };
}

/** An int64 `Constant` node in `b`'s scope (1-D unless `scalar`), as TorchScript writes constants. */
export function constI64(b: GraphBuilder, values: (number | bigint)[], scalar = false): string {
  return b.op1('Constant', [], { value: { tensor: int64Tensor('', scalar ? [] : [values.length], values) } });
}

/** A float32 `Constant` node in `b`'s scope (a scalar for one number). */
export function constF32(b: GraphBuilder, values: number | number[], dims?: number[]): string {
  const list = typeof values === 'number' ? [values] : values;
  const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
  return b.op1('Constant', [], { value: { tensor: floatTensor('', shape, list) } });
}
