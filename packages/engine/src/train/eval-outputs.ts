import { DataType, GraphBuilder, tensorValueInfo, type ModelProto } from '@mor/onnx';
import { encodeForSession, type SessionModel } from '../session-model.js';

/**
 * Encodes the forward+loss graph as the evaluation model: outputs `loss` and, for sequence classification,
 * `correct` (rows whose arg-max logit equals the label; ignored rows never match). The model is left as it was
 * (the extra nodes and the output list are restored), so the train step can be built on it next. Past 2 GiB
 * (or with `externalDataThreshold`) the weights travel as in-memory external data (session-model.ts).
 */
export function encodeEvalModel(
  model: ModelProto,
  task: 'causal-lm' | 'seq-cls',
  opset: number,
  externalDataThreshold?: number,
): SessionModel {
  const graph = model.graph!;
  const [nodes, outputs, initializers] = [graph.node, graph.output, graph.initializer];
  graph.node = [...nodes];
  graph.initializer = [...initializers];
  graph.output = outputs.filter((o) => o.name === 'loss');
  if (task === 'seq-cls') {
    const b = new GraphBuilder(graph, { scope: '/eval', opset });
    const predicted = b.op1('ArgMax', ['logits'], { axis: { int: -1 }, keepdims: { int: 0 } });
    const hits = b.op1('Cast', [b.op1('Equal', [predicted, 'labels'])], { to: { int: DataType.INT64 } });
    b.op1('ReduceSum', [hits], { keepdims: { int: 0 } }, 'correct');
    graph.output.push(tensorValueInfo('correct', DataType.INT64, []));
  }
  try {
    return encodeForSession(model, externalDataThreshold);
  } finally {
    graph.node = nodes;
    graph.output = outputs;
    graph.initializer = initializers;
  }
}
