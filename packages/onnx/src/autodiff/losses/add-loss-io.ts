import { TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { tensorValueInfo } from '../../graph/value-info.js';
import type { StaticDim } from '../static-info.js';

/** Declares `labels` as an int64 graph input (unless it already is one) and `loss` as a scalar output. */
export function addLossIo(
  graph: GraphProto,
  labels: string,
  labelDims: StaticDim[],
  loss: string,
  floatType: number,
): void {
  if (!graph.input.some((i) => i.name === labels))
    graph.input.push(tensorValueInfo(labels, DataType.INT64, labelDims));
  if (!graph.output.some((o) => o.name === loss)) graph.output.push(tensorValueInfo(loss, floatType, []));
}
