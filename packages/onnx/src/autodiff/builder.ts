import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { GraphBuilder } from '../graph/graph-builder.js';
import { DEFAULT_OPSET } from '../graph/graph-index.js';
import type { FloatType } from '../graph/tensor-data.js';
import { UniqueNames } from '../graph/unique-names.js';
import { AutodiffError } from './errors.js';

/**
 * The lowest ai.onnx opset training graphs are emitted for: losses, decompositions, gradients and optimizers use
 * the opset-13 forms (axes and split sizes as inputs, Softmax over one axis), whatever the model's own nodes use.
 */
export const MIN_TRAIN_OPSET = 13;

/** The builder every autodiff emitter writes with; refuses opsets below {@link MIN_TRAIN_OPSET}, once, here. */
export function autodiffBuilder(
  graph: GraphProto,
  scope: string,
  opset: number = DEFAULT_OPSET,
  floatType: FloatType = DataType.FLOAT,
  names?: UniqueNames,
): GraphBuilder {
  if (opset < MIN_TRAIN_OPSET)
    throw new AutodiffError(
      `training graphs need ai.onnx opset ${MIN_TRAIN_OPSET} or newer (axes and splits as inputs); the model imports opset ${opset}`,
    );
  return new GraphBuilder(graph, { scope, opset, floatType, ...(names ? { names } : {}) });
}

/**
 * Builders of one scope for each float compute type, sharing the graph's names: a rule (or decomposition) of a
 * float16 node writes with the float16 one, so its constants, fills and casts are float16 like the tensors they
 * meet (fp16 / q4f16 graphs: the base computes in float16 while the loss and the adapter run in float32).
 * `of(elemType)` gives the float16 builder for FLOAT16 and the default (`floatType`) builder for anything else.
 */
export function typedBuilders(
  graph: GraphProto,
  scope: string,
  opset: number = DEFAULT_OPSET,
  floatType: FloatType = DataType.FLOAT,
): { main: GraphBuilder; of(elemType: number | undefined): GraphBuilder } {
  const main = autodiffBuilder(graph, scope, opset, floatType);
  let half: GraphBuilder | undefined;
  return {
    main,
    of: (t) =>
      t === DataType.FLOAT16
        ? (half ??= autodiffBuilder(graph, scope, opset, DataType.FLOAT16, main.names))
        : main,
  };
}
