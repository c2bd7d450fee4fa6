import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, type GraphProto } from 'onnx-buf';
import { makeAttribute, type AttrValue } from './attributes.js';
import { floatTensor, int64Tensor } from './tensors.js';

/** Options of {@link GraphBuilder}. */
export interface GraphBuilderOptions {
  /** Prefix of every emitted node and tensor name (keeps them apart from the forward graph's names). */
  prefix: string;
  /** The model's ai.onnx opset: decides between attribute and input forms (ReduceMean axes moved in 18). */
  opset: number;
  /** Element type of emitted float constants (the graph's compute type). */
  floatType: number;
}

/**
 * Appends nodes and constant initializers to a graph: the short-hand the gradient rules, loss and optimizer
 * emitters write with. Constants are deduplicated by value, names are unique within the graph.
 */
export class GraphBuilder {
  readonly opset: number;
  readonly floatType: number;
  private readonly prefix: string;
  private readonly taken = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;
  /** Transposes emitted here, by output: lets {@link transpose} cancel a transpose of a transpose. */
  private readonly transposes = new Map<string, { input: string; perm: number[] }>();

  constructor(
    readonly graph: GraphProto,
    options: GraphBuilderOptions,
  ) {
    this.prefix = options.prefix;
    this.opset = options.opset;
    this.floatType = options.floatType;
    for (const n of graph.node) for (const o of n.output) this.taken.add(o);
    for (const n of graph.node) this.taken.add(n.name);
    for (const t of graph.initializer) this.taken.add(t.name);
    for (const v of graph.input) this.taken.add(v.name);
  }

  /** A fresh name `<prefix><base>_<n>` not used in the graph. */
  fresh(base: string): string {
    let name: string;
    do name = `${this.prefix}${base}_${this.counter++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** Emits one node; returns its output names (`outputs` of them, or the given names). */
  op(
    type: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    outputs: number | string[] = 1,
    domain = '',
  ): string[] {
    const name = this.fresh(type);
    const outs =
      typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `${name}_out${i}`) : outputs;
    for (const o of outs) this.taken.add(o);
    if (type === 'Transpose' && Array.isArray(attrs['perm']))
      this.transposes.set(outs[0]!, { input: inputs[0]!, perm: attrs['perm'] as number[] });
    const attribute = Object.entries(attrs).map(([k, v]) => makeAttribute(k, v));
    this.graph.node.push(
      create(NodeProtoSchema, { name, opType: type, domain, input: inputs, output: outs, attribute }),
    );
    return outs;
  }

  /** Emits a single-output node and returns the output name. */
  op1(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.op(type, inputs, attrs)[0]!;
  }

  /** A float constant of the compute type (scalar by default). */
  f(values: number | number[], dims: number[] = typeof values === 'number' ? [] : [values.length]): string {
    const list = typeof values === 'number' ? [values] : values;
    return this.constant(`f:${dims.join(',')}:${list.join(',')}`, (name) =>
      floatTensor(name, this.floatType, list, dims),
    );
  }

  /** An int64 constant (1-D by default; pass `[]` for a scalar). */
  i64(values: number | number[], dims: number[] = typeof values === 'number' ? [] : [values.length]): string {
    const list = typeof values === 'number' ? [values] : values;
    return this.constant(`i:${dims.join(',')}:${list.join(',')}`, (name) => int64Tensor(name, list, dims));
  }

  /** Zeros with the shape of `x`, in the compute type. */
  zerosLike(x: string): string {
    return this.op1('ConstantOfShape', [this.op1('Shape', [x])], {
      value: floatTensor('value', this.floatType, [0], [1]),
    });
  }

  /** ReduceSum over `axes` (an int64 tensor name, or a list); `undefined` reduces every axis. */
  reduceSum(x: string, axes: string | number[] | undefined, keepdims: boolean): string {
    const axesName = Array.isArray(axes) ? this.i64(axes) : axes;
    return this.op1('ReduceSum', axesName === undefined ? [x] : [x, axesName], {
      keepdims: keepdims ? 1 : 0,
    });
  }

  /** ReduceMean over constant `axes`, in the form the opset wants (attribute before 18, input from 18). */
  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    const k = keepdims ? 1 : 0;
    if (this.opset >= 18) return this.op1('ReduceMean', [x, this.i64(axes)], { keepdims: k });
    return this.op1('ReduceMean', [x], { axes, keepdims: k });
  }

  /**
   * Transpose by `perm`; when `x` is itself a transpose emitted here whose permutation `perm` undoes, its input
   * (no kernel). MatMul gradients rely on it: a weight used as `Wᵀ` gets `dW` directly (see matmulGrad).
   */
  transpose(x: string, perm: number[]): string {
    const inner = this.transposes.get(x);
    if (inner && inner.perm.length === perm.length && perm.every((p, i) => inner.perm[p] === i))
      return inner.input;
    return this.op1('Transpose', [x], { perm });
  }

  /** Unsqueeze at constant axes (opset 13+ form: axes as input). */
  unsqueeze(x: string, axes: number[]): string {
    return this.op1('Unsqueeze', [x, this.i64(axes)]);
  }

  private constant(key: string, make: (name: string) => ReturnType<typeof floatTensor>): string {
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.fresh('const');
    this.graph.initializer.push(make(name));
    this.constants.set(key, name);
    return name;
  }
}
