import { TensorProto_DataType as DataType } from 'onnx-buf';
import type { GraphBuilder } from '../../graph/graph-builder.js';
import { collectStaticInfo } from '../static-info.js';

/** Label value whose positions do not count (PyTorch / Hugging Face `ignore_index`). */
export const IGNORE_INDEX = -100;

/**
 * `logits` in the loss's type: fp16 / q4f16 graphs give float16 logits, and the loss (with its seed gradient) is
 * computed in float32 from a Cast of them, as under PyTorch's autocast; the Cast's gradient takes dL/dlogits back
 * to float16 for the model's backward.
 */
function inLossType(b: GraphBuilder, logits: string): string {
  const type = collectStaticInfo(b.graph).elemType(logits);
  return type === undefined || type === b.floatType
    ? logits
    : b.op1('Cast', [logits], { to: { int: b.floatType } });
}

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
  const logProbs = b.op1('LogSoftmax', [inLossType(b, logits)], lastAxis);
  const picked = b.op1('GatherElements', [logProbs, b.unsqueeze(safe, [-1])], lastAxis);
  const mask = b.op1('Cast', [valid], { to: { int: b.floatType } });
  const nll = b.op1('Mul', [b.op1('Neg', [b.op1('Squeeze', [picked, b.i64([-1])])]), mask]);
  const count = b.op1('Max', [b.reduceSum(mask, undefined, false), b.f(1)]);
  return b.op1('Div', [b.reduceSum(nll, undefined, false), count], {}, output);
}
