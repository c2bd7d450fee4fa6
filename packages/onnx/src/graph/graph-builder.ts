import { create } from '@bufbuild/protobuf';
import {
  NodeProtoSchema,
  TensorProto_DataType,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from 'onnx-buf';
import { GraphError } from '../errors.js';
import { attribute, type AttributeValue } from './attributes.js';
import { floatTensor, int64Tensor, type FloatType } from './tensor-data.js';
import { UniqueNames } from './unique-names.js';

/** Options of {@link GraphBuilder}. */
export interface GraphBuilderOptions {
  /** Name scope: nodes are `<scope>/<Op>`, their outputs `<node>_output_<i>`, constants `<scope>/<base>`. */
  scope: string;
  /** The model's ai.onnx opset: decides between attribute and input forms (Unsqueeze axes, ReduceMean axes). */
  opset: number;
  /** Element type of emitted float constants (the graph's compute type); default float32. */
  floatType?: FloatType;
  /** Names already handed out on this graph (share one between builders); default: read from the graph. */
  names?: UniqueNames;
  /**
   * Where emitted nodes go: appended to `graph.node` (default), or, in emission order, right after / before an
   * anchor node already in the graph (keeps a topologically sorted graph sorted).
   */
  place?: { after: NodeProto } | { before: NodeProto };
}

/**
 * Emits nodes and constants into one graph: the adapter passes, losses, gradient rules, optimizers and the model
 * builder all write with it. Names are unique in the graph; float/int64 constants are initializers deduplicated
 * by value; a transpose of a transpose emitted here cancels.
 */
export class GraphBuilder {
  readonly opset: number;
  readonly floatType: FloatType;
  readonly names: UniqueNames;
  readonly scope: string;
  /** Every node emitted here, in emission order (what a pass may fold afterwards, see pass/fold-constants.ts). */
  readonly emitted: NodeProto[] = [];
  private readonly place: GraphBuilderOptions['place'];
  private last: NodeProto | undefined;
  private readonly constants = new Map<string, string>();
  /** Transposes emitted here, by output: lets {@link transpose} cancel a transpose of a transpose. */
  private readonly transposes = new Map<string, { input: string; perm: number[] }>();

  constructor(
    readonly graph: GraphProto,
    options: GraphBuilderOptions,
  ) {
    this.scope = options.scope;
    this.opset = options.opset;
    this.floatType = options.floatType ?? TensorProto_DataType.FLOAT;
    this.names = options.names ?? new UniqueNames(graph);
    this.place = options.place;
  }

  /**
   * Emits one node; returns its output names (`outputs` fresh ones, or the names given). The node is named
   * `<scope>/<Op>` (`<Op>` outside any scope), made unique, unless `name` is given.
   */
  op(
    type: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue> = {},
    outputs: number | readonly string[] = 1,
    { domain = '', name: given }: { domain?: string; name?: string } = {},
  ): string[] {
    const name = given
      ? this.names.claim(given)
      : this.names.take(this.scope ? `${this.scope}/${type}` : type);
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) => this.names.take(`${name}_output_${i}`))
        : outputs.map((o) => this.names.claim(o));
    const perm = attrs['perm'];
    if (type === 'Transpose' && perm && 'ints' in perm)
      this.transposes.set(outs[0]!, { input: inputs[0]!, perm: perm.ints });
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.emit(
      create(NodeProtoSchema, {
        name,
        opType: type,
        domain,
        input: [...inputs],
        output: outs,
        attribute: attribute_,
      }),
    );
    return outs;
  }

  /** Emits a single-output node and returns its output name (`output` when given). */
  op1(
    type: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    return this.op(type, inputs, attrs, output === undefined ? 1 : [output])[0]!;
  }

  /** Adds an initializer (no deduplication) named `<scope>/<base>` (made unique); returns its name. */
  initializer(base: string, make: (name: string) => TensorProto): string {
    const name = this.names.take(`${this.scope}/${base}`);
    this.graph.initializer.push(make(name));
    return name;
  }

  /** A float constant of the compute type (scalar for one number, else 1-D unless `dims`). */
  f(values: number | ArrayLike<number>, dims?: readonly number[], base = 'const'): string {
    const list = typeof values === 'number' ? [values] : Array.from(values);
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
    return this.constant(`f${this.floatType}:${shape.join(',')}:${list.join(',')}`, base, (n) =>
      floatTensor(n, shape, list, this.floatType),
    );
  }

  /** An int64 constant (scalar for one number, else 1-D unless `dims`). */
  i64(values: number | readonly number[], dims?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
    return this.constant(`i:${shape.join(',')}:${list.join(',')}`, 'const', (n) =>
      int64Tensor(n, shape, list),
    );
  }

  /** `value` everywhere in the shape of `x`, in the compute type. */
  fillLike(x: string, value: number): string {
    return this.op1('ConstantOfShape', [this.op1('Shape', [x])], {
      value: { tensor: floatTensor('value', [1], [value], this.floatType) },
    });
  }

  zerosLike(x: string): string {
    return this.fillLike(x, 0);
  }

  /** ReduceSum over `axes` (an int64 tensor name, or a list); `undefined` reduces every axis. */
  reduceSum(x: string, axes: string | number[] | undefined, keepdims: boolean): string {
    const axesName = Array.isArray(axes) ? this.i64(axes) : axes;
    return this.op1('ReduceSum', axesName === undefined ? [x] : [x, axesName], {
      keepdims: { int: keepdims ? 1 : 0 },
    });
  }

  /** ReduceMean over constant `axes`, in the form the opset wants (attribute before 18, input from 18). */
  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    const keep = { keepdims: { int: keepdims ? 1 : 0 } };
    if (this.opset >= 18) return this.op1('ReduceMean', [x, this.i64(axes)], keep);
    return this.op1('ReduceMean', [x], { axes: { ints: axes }, ...keep });
  }

  /**
   * Transpose by `perm`; when `x` is itself a transpose emitted here whose permutation `perm` undoes, its input
   * (no kernel). MatMul gradients rely on it: a weight used as `Wᵀ` gets `dW` directly (see matmulGrad).
   */
  transpose(x: string, perm: number[]): string {
    const inner = this.transposes.get(x);
    if (inner && inner.perm.length === perm.length && perm.every((p, i) => inner.perm[p] === i))
      return inner.input;
    return this.op1('Transpose', [x], { perm: { ints: perm } });
  }

  /** Unsqueeze at constant axes, with the axes encoding of the opset (attribute before 13, input from 13). */
  unsqueeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.op1('Unsqueeze', [x, this.i64(axes)]);
    return this.op1('Unsqueeze', [x], { axes: { ints: axes } });
  }

  /** Split along `axis` into parts of `sizes`, in the opset's form (attribute before 13, input from 13). */
  split(x: string, sizes: number[], axis = -1): string[] {
    if (this.opset >= 13)
      return this.op('Split', [x, this.i64(sizes)], { axis: { int: axis } }, sizes.length);
    return this.op('Split', [x], { axis: { int: axis }, split: { ints: sizes } }, sizes.length);
  }

  /** Softmax over the last axis (same result under the pre-13 2-D coercion, since the axis is the last). */
  softmaxLast(x: string): string {
    return this.op1('Softmax', [x], { axis: { int: -1 } });
  }

  /** Fails clearly when an op needs a newer opset than the model imports. */
  requireOpset(min: number, what: string): void {
    if (this.opset < min)
      throw new GraphError(`${what} needs ai.onnx opset ≥ ${min}, the model imports ${this.opset}`);
  }

  private constant(key: string, base: string, make: (name: string) => TensorProto): string {
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.initializer(base, make);
    this.constants.set(key, name);
    return name;
  }

  private emit(node: NodeProto): void {
    this.emitted.push(node);
    const nodes = this.graph.node;
    if (!this.place) {
      nodes.push(node);
      return;
    }
    const anchor = 'after' in this.place ? this.place.after : this.place.before;
    const previous = this.last ? nodes.indexOf(this.last) : -1;
    const at = previous >= 0 ? previous + 1 : nodes.indexOf(anchor) + ('after' in this.place ? 1 : 0);
    if (previous < 0 && !nodes.includes(anchor))
      throw new GraphError('anchor node is not in the graph', anchor.name);
    nodes.splice(at, 0, node);
    this.last = node;
  }
}
