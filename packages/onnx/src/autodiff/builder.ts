import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { GraphBuilder } from '../graph/graph-builder.js';
import { DEFAULT_OPSET } from '../graph/graph-index.js';
import type { FloatType } from '../graph/tensor-data.js';
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
): GraphBuilder {
  if (opset < MIN_TRAIN_OPSET)
    throw new AutodiffError(
      `training graphs need ai.onnx opset ${MIN_TRAIN_OPSET} or newer (axes and splits as inputs); the model imports opset ${opset}`,
    );
  return new GraphBuilder(graph, { scope, opset, floatType });
}
