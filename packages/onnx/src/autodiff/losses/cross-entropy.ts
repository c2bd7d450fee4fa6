import { TensorProto_DataType as DataType } from 'onnx-buf';
import type { GraphBuilder } from '../../graph/graph-builder.js';

/** Label value whose positions do not count (PyTorch / Hugging Face `ignore_index`). */
export const IGNORE_INDEX = -100;

/**
 * Mean cross-entropy over the non-ignored positions: `logits` [..., C] float, `labels` [...] int64 with
 * {@link IGNORE_INDEX} marking positions to skip. Returns the scalar loss tensor name. The mean divides by
 * max(count, 1), so a batch with every label ignored gives 0 rather than NaN.
 */
export function emitCrossEntropy(b: GraphBuilder, logits: string, labels: string, output: string): string {
  const labels64 = b.op1('Cast', [labels], { to: { int: DataType.INT64 } });
  const valid = b.op1('Not', [b.op1('Equal', [labels64, b.i64(IGNORE_INDEX, [])])]);
  // Ignored positions gather class 0 (any valid index) and are then zeroed by the mask.
  const safe = b.op1('Where', [valid, labels64, b.i64(0, [])]);
  const lastAxis = { axis: { int: -1 } };
  const logProbs = b.op1('LogSoftmax', [logits], lastAxis);
  const picked = b.op1('GatherElements', [logProbs, b.unsqueeze(safe, [-1])], lastAxis);
  const mask = b.op1('Cast', [valid], { to: { int: b.floatType } });
  const nll = b.op1('Mul', [b.op1('Neg', [b.op1('Squeeze', [picked, b.i64([-1])])]), mask]);
  const count = b.op1('Max', [b.reduceSum(mask, undefined, false), b.f(1)]);
  return b.op1('Div', [b.reduceSum(nll, undefined, false), count], {}, output);
}
