import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { tensorValueInfo } from '../../graph/value-info.js';
import { autodiffBuilder } from '../builder.js';

/** Options of {@link emitClipGradNorm}. */
export interface ClipGradNormOptions {
  /** Gradient tensors to clip together. */
  grads: string[];
  /** Largest global L2 norm allowed. */
  maxNorm: number;
  /** Graph output carrying the norm before clipping (for logging). Default `grad_norm`. */
  normOutput?: string;
  opset?: number;
  floatType?: DataType.FLOAT | DataType.DOUBLE;
}

/**
 * Emits global-norm gradient clipping ({@link clipGradNormReference}) in-graph: returns the clipped gradient
 * name per input gradient.
 */
export function emitClipGradNorm(graph: GraphProto, options: ClipGradNormOptions): Map<string, string> {
  const floatType = options.floatType ?? DataType.FLOAT;
  const b = autodiffBuilder(graph, '/clip', options.opset, floatType);
  const squares = options.grads.map((g) => b.reduceSum(b.op1('Mul', [g, g]), undefined, false));
  const normName = options.normOutput ?? 'grad_norm';
  const norm = b.op1('Sqrt', [squares.length === 1 ? squares[0]! : b.op1('Sum', squares)], {}, normName);
  graph.output.push(tensorValueInfo(normName, floatType, []));
  const scale = b.op1('Min', [b.f(1), b.op1('Div', [b.f(options.maxNorm), b.op1('Add', [norm, b.f(1e-6)])])]);
  return new Map(options.grads.map((g) => [g, b.op1('Mul', [g, scale])]));
}
