import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, type GraphProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { GraphError } from '../errors.js';
import { attribute, type AttributeValue } from './attributes.js';
import { int64Tensor } from './tensor-data.js';
import type { UniqueNames } from './unique-names.js';

/** Options of {@link GraphBuilder.op}. */
export interface OpOptions {
  /** Attributes by name. */
  attrs?: Record<string, AttributeValue>;
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Operator domain ('' = ai.onnx). */
  domain?: string;
}

/**
 * Emits nodes and initializers under one name scope (e.g. `/mor/model.layers.0.mlp.gate_proj`). Nodes are
 * collected in {@link nodes}; the caller places them in the graph (see {@link insertNodesAfter}) so the
 * graph stays topologically sorted. Emission adapts to the model's ai.onnx opset (Unsqueeze axes as an
 * attribute before opset 13, as an input from 13).
 */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];

  constructor(
    readonly graph: GraphProto,
    readonly names: UniqueNames,
    /** The model's ai.onnx opset version. */
    readonly opset: number,
    /** Name scope for nodes and values. */
    readonly scope: string,
  ) {}

  /** Appends one node; returns its output value names. */
  op(opType: string, inputs: readonly string[], options: OpOptions = {}): string[] {
    const name = this.names.take(`${this.scope}/${opType}`);
    const outputs = Array.from({ length: options.outputs ?? 1 }, (_, i) =>
      this.names.take(`${name}_output_${i}`),
    );
    const attribute_ = Object.entries(options.attrs ?? {}).map(([k, v]) => attribute(k, v));
    this.nodes.push(
      create(NodeProtoSchema, {
        name,
        opType,
        domain: options.domain ?? '',
        input: [...inputs],
        output: outputs,
        attribute: attribute_,
      }),
    );
    return outputs;
  }

  /** Appends a single-output node and returns its output name. */
  op1(opType: string, inputs: readonly string[], attrs?: Record<string, AttributeValue>): string {
    return this.op(opType, inputs, attrs ? { attrs } : {})[0]!;
  }

  /** Adds an initializer named `${scope}/${base}` (made unique); returns its name. */
  initializer(base: string, make: (name: string) => TensorProto): string {
    const name = this.names.take(`${this.scope}/${base}`);
    this.graph.initializer.push(make(name));
    return name;
  }

  /** An INT64 1-D constant. */
  ints(base: string, values: readonly number[]): string {
    return this.initializer(base, (n) => int64Tensor(n, [values.length], values));
  }

  /** Unsqueeze with the axes encoding of the model's opset. */
  unsqueeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.op1('Unsqueeze', [x, this.ints('axes', axes)]);
    return this.op1('Unsqueeze', [x], { axes: { ints: axes } });
  }

  /** Transpose with an explicit permutation. */
  transpose(x: string, perm: number[]): string {
    return this.op1('Transpose', [x], { perm: { ints: perm } });
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
}

/** Inserts `nodes` right after `anchor` in the graph's node list (keeps topological order). */
export function insertNodesAfter(graph: GraphProto, anchor: NodeProto, nodes: readonly NodeProto[]): void {
  const at = graph.node.indexOf(anchor);
  if (at < 0) throw new GraphError('anchor node is not in the graph', anchor.name);
  graph.node.splice(at + 1, 0, ...nodes);
}
