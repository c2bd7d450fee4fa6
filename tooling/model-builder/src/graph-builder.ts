import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';

/** ONNX TensorProto.DataType codes used by the builders. */
export const DType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DTypeCode = (typeof DType)[keyof typeof DType];

/** Typed arrays an initializer or constant may hold (stored little-endian as raw_data). */
export type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

/** An attribute value, tagged so that `1` (int) and `1.0` (float) cannot be confused. */
export type Attr =
  | { i: number }
  | { f: number }
  | { ints: number[] }
  | { s: string }
  | { t: { dims: number[]; data: TensorData; dtype: DTypeCode } };

/** Largest int64 (TorchScript uses it as the open end of slices). */
export const INT64_MAX = 9223372036854775807n;

function dtypeOf(data: TensorData): DTypeCode {
  if (data instanceof Float32Array) return DType.FLOAT;
  if (data instanceof Int8Array) return DType.INT8;
  if (data instanceof Int32Array) return DType.INT32;
  if (data instanceof BigInt64Array) return DType.INT64;
  return DType.UINT8;
}

function tensorProto(name: string, dims: number[], data: TensorData, dtype = dtypeOf(data)): TensorProto {
  const bytes = new Uint8Array(data.byteLength);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: dtype, rawData: bytes });
}

function attributeProto(name: string, a: Attr): AttributeProto {
  const T = AttributeProto_AttributeType;
  if ('i' in a) return create(AttributeProtoSchema, { name, type: T.INT, i: BigInt(a.i) });
  if ('f' in a) return create(AttributeProtoSchema, { name, type: T.FLOAT, f: a.f });
  if ('ints' in a) return create(AttributeProtoSchema, { name, type: T.INTS, ints: a.ints.map(BigInt) });
  if ('s' in a)
    return create(AttributeProtoSchema, { name, type: T.STRING, s: new TextEncoder().encode(a.s) });
  return create(AttributeProtoSchema, {
    name,
    type: T.TENSOR,
    t: tensorProto('', a.t.dims, a.t.data, a.t.dtype),
  });
}

function valueInfo(name: string, elemType: DTypeCode, dims: (number | string)[]): ValueInfoProto {
  const dim = dims.map((d) =>
    create(TensorShapeProto_DimensionSchema, {
      value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
    }),
  );
  const type = create(TypeProtoSchema, {
    value: { case: 'tensorType', value: { elemType, shape: { dim } } },
  });
  return create(ValueInfoProtoSchema, { name, type });
}

/** Thrown when a builder is asked for something inconsistent (duplicate names, bad options). */
export class ModelBuilderError extends Error {
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ModelBuilderError';
  }
}

/**
 * Accumulates an ONNX graph in the naming scheme of torch's TorchScript exporter: node `${scope}/${Op}` (then
 * `_1`, `_2`, … for repeats in the same scope), output `${node}_output_0`, constants as `Constant` nodes in the
 * scope that uses them, transposed linear weights as `onnx::MatMul_N` initializers.
 */
export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly inits: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly opCounts = new Map<string, number>();
  private readonly memo = new Map<string, unknown>();
  private anonCounter = 0;
  private exportCounter: number;
  private readonly domains = new Map<string, number>([['', 17]]);

  constructor(firstExportId = 600) {
    this.exportCounter = firstExportId;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new ModelBuilderError(`duplicate tensor name ${name}`, { name });
    this.names.add(name);
    return name;
  }

  /** Declare a graph input. */
  input(name: string, elemType: DTypeCode, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  /** Declare a graph output (the tensor must be produced by a node under this name). */
  output(name: string, elemType: DTypeCode, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Add an initializer under an explicit name. */
  initializer(name: string, dims: number[], data: TensorData, dtype?: DTypeCode): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== data.length) {
      throw new ModelBuilderError(`initializer ${name}: ${data.length} values for shape [${dims}]`, {
        name,
        dims,
      });
    }
    this.inits.push(tensorProto(this.claim(name), dims, data, dtype));
    return name;
  }

  /** A fresh TorchScript-style anonymous name such as `onnx::MatMul_612`. */
  exportName(kind: string): string {
    return `onnx::${kind}_${this.exportCounter++}`;
  }

  /** Register an extra operator set (e.g. `com.microsoft` for MatMulNBits). */
  useDomain(domain: string, version: number): void {
    this.domains.set(domain, version);
  }

  /** Compute a value once per graph (e.g. the quantized form of an activation shared by q/k/v). */
  once<T>(key: string, make: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as T;
  }

  /**
   * Emit a node; returns its output names. `outputs` gives explicit output names (e.g. graph outputs) or a count
   * of `${node}_output_${k}` outputs to create.
   */
  node(
    scope: string,
    opType: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    opts: { outputs?: string[] | number; domain?: string; name?: string } = {},
  ): string[] {
    let name = opts.name;
    if (name === undefined) {
      const base = scope === '' ? `${opType}_${this.anonCounter++}` : `${scope}/${opType}`;
      const n = this.opCounts.get(base) ?? 0;
      this.opCounts.set(base, n + 1);
      name = scope === '' || n === 0 ? base : `${base}_${n}`;
    }
    const outs = Array.isArray(opts.outputs)
      ? opts.outputs
      : Array.from({ length: opts.outputs ?? 1 }, (_, k) => `${name}_output_${k}`);
    for (const o of outs) this.claim(o);
    const attribute = Object.entries(attrs).map(([k, v]) => attributeProto(k, v));
    this.nodes.push(
      create(NodeProtoSchema, {
        name,
        opType,
        input: inputs,
        output: outs,
        attribute,
        domain: opts.domain ?? '',
      }),
    );
    return outs;
  }

  /** Emit a single-output node and return that output's name. */
  op(
    scope: string,
    opType: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    output?: string,
  ): string {
    return this.node(scope, opType, inputs, attrs, output === undefined ? {} : { outputs: [output] })[0]!;
  }

  /** An int64 `Constant` node (1-D unless `scalar`). */
  constI64(scope: string, values: (number | bigint)[], scalar = false): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.op(scope, 'Constant', [], {
      value: { t: { dims: scalar ? [] : [values.length], data, dtype: DType.INT64 } },
    });
  }

  /** A float32 `Constant` node (a scalar for one number). */
  constF32(scope: string, values: number | number[], dims?: number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    return this.op(scope, 'Constant', [], {
      value: { t: { dims: shape, data: Float32Array.from(arr), dtype: DType.FLOAT } },
    });
  }

  /** Serialize as an opset-17 ModelProto (IR version 8, like torch 2.x exports). */
  toBytes(producer = 'pytorch', graphName = 'main_graph'): Uint8Array {
    const graph = create(GraphProtoSchema, {
      name: graphName,
      node: this.nodes,
      initializer: this.inits,
      input: this.inputs,
      output: this.outputs,
    });
    const opsetImport = [...this.domains].map(([domain, version]) =>
      create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }),
    );
    const model = create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: producer,
      producerVersion: '2.11.0',
      opsetImport,
      graph,
    });
    return toBinary(ModelProtoSchema, model);
  }
}
