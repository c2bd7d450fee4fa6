import type { NodeProto } from 'onnx-buf';
import { intAttr } from '../graph/attributes.js';
import { opKey } from '../graph/graph-index.js';
import { isFloatType } from '../graph/tensor-data.js';

/**
 * Ops whose outputs carry no gradient: shape arithmetic, comparisons, integer results, random draws and step
 * functions (derivative zero almost everywhere). This is not "unsupported": the walker stops here instead of
 * failing. `'all'` covers every output; a list names the non-differentiable outputs of a multi-output op.
 * Keyed by `domain:opType` (`:Shape` for ai.onnx).
 */
export const NO_GRADIENT: ReadonlyMap<string, 'all' | readonly number[]> = new Map<string, 'all' | number[]>([
  ...[
    'Shape',
    'Size',
    'ConstantOfShape',
    'Range',
    'Constant',
    'Equal',
    'Less',
    'LessOrEqual',
    'Greater',
    'GreaterOrEqual',
    'Not',
    'And',
    'Or',
    'Xor',
    'ArgMax',
    'ArgMin',
    'NonZero',
    'IsNaN',
    'IsInf',
    'Sign',
    'Floor',
    'Ceil',
    'Round',
    'EyeLike',
    'OneHot',
    'RandomNormal',
    'RandomNormalLike',
    'RandomUniform',
    'RandomUniformLike',
    'Bernoulli',
    'Multinomial',
    'NonMaxSuppression',
    'BitShift',
    'BitwiseAnd',
    'BitwiseOr',
    'BitwiseXor',
    'BitwiseNot',
  ].map((op): [string, 'all'] => [`:${op}`, 'all']),
  // Embeddings of a frozen quantized base: nothing trainable feeds them (data, scales and indices are constants).
  ['com.microsoft:GatherBlockQuantized', 'all'],
  [':TopK', [1]],
  [':Dropout', [1]],
  [':Unique', [1, 2, 3]],
]);

/** True when output `index` of `node` carries no gradient (NO_GRADIENT, or a Cast to a non-float type). */
export function isNonDifferentiableOutput(node: NodeProto, index: number): boolean {
  if (opKey(node) === ':Cast') return !isFloatType(intAttr(node, 'to', 0));
  const entry = NO_GRADIENT.get(opKey(node));
  return entry === 'all' || (entry !== undefined && entry.includes(index));
}
