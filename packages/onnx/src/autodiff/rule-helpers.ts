import { TensorProto_DataType as DataType } from 'onnx-buf';
import { floatAttr, intAttr, intsAttr, type AttributeValue } from '../graph/attributes.js';
import { AutodiffError, describeNode } from './errors.js';
import type { GradContext } from './rule-context.js';

/**
 * Transpose that swaps the last two axes: a static `perm` when the rank is known, else at run time through a
 * 3-D view `[batch…, m, n] → [B, m, n] → [B, n, m] → [batch…, n, m]` (rank ≥ 2 assumed).
 */
function swapLast2(c: GradContext, x: string, rank: number | undefined): string {
  const { b } = c;
  if (rank !== undefined) {
    const perm = Array.from({ length: rank }, (_, i) => i);
    [perm[rank - 2], perm[rank - 1]] = [rank - 1, rank - 2];
    return b.op1('Transpose', [x], { perm: { ints: perm } });
  }
  const shape = b.op1('Shape', [x]);
  const part = (start: number, end: number) => b.op1('Slice', [shape, b.i64([start]), b.i64([end])]);
  const [batch, m, n] = [part(0, -2), part(-2, -1), part(-1, Number.MAX_SAFE_INTEGER)];
  const axis0 = { axis: { int: 0 } };
  const view = b.op1('Reshape', [x, b.op1('Concat', [b.i64([-1]), m, n], axis0)]);
  const swapped = b.op1('Transpose', [view], { perm: { ints: [0, 2, 1] } });
  return b.op1('Reshape', [swapped, b.op1('Concat', [batch, n, m], axis0)]);
}

/**
 * MatMul (numpy semantics, batched and broadcast); the walker sums broadcast batch axes back. With a 2-D
 * weight (the common case) dW is one exact-shape MatMul over the flattened batch. Operands of unknown rank are
 * taken to be at least 2-D (1-D operands are graph inputs or initializers, whose ranks are declared).
 */
export function matmulGrad(c: GradContext): (string | null)[] {
  const { b } = c;
  const [a, w] = [c.x[0]!, c.x[1]!];
  const dy = c.dy[0]!;
  const [ra, rb] = [c.info.rank(a), c.info.rank(w)];
  const mm = (p: string, q: string) => b.op1('MatMul', [p, q]);
  if (ra === 1 && rb === 1) return [b.op1('Mul', [dy, w]), b.op1('Mul', [dy, a])];
  if (rb === 1) return [b.op1('Mul', [b.unsqueeze(dy, [-1]), w]), mm(b.unsqueeze(dy, [-2]), a)];
  if (ra === 1)
    return [
      mm(b.unsqueeze(dy, [-2]), swapLast2(c, w, rb)),
      b.op1('Mul', [b.unsqueeze(a, [-1]), b.unsqueeze(dy, [-2])]),
    ];
  // A 2-D operand is its own flattening: no Flatten (a copy kernel) for parameter-only products.
  const flat = (t: string) => (ra === 2 ? t : b.op1('Flatten', [t], { axis: { int: -1 } }));
  const dA =
    rb === 2 && c.info.isInitializer(w)
      ? frozenWeightInputGrad(c, dy, w, ra, flat)
      : mm(dy, rb === 2 ? b.op1('Transpose', [w]) : swapLast2(c, w, rb));
  if (rb !== 2) return [dA, mm(swapLast2(c, a, ra), dy)];
  // A tall-thin weight [K, N] (N < K: an adapter's Aᵀ or router Wᵀ) gets dWᵀ = dyᵀ·a then a transpose: MLAS is
  // ~1.3-2× faster producing the wide [N, K] product, and when W is Transpose(P) the two transposes cancel
  // (GraphBuilder.transpose), so the parameter's own gradient comes out with no kernel in between.
  const [k, n] = c.info.shape(w) ?? [];
  if (typeof k === 'number' && typeof n === 'number' && n < k)
    return [dA, b.transpose(mm(b.transpose(flat(dy), [1, 0]), flat(a)), [1, 0])];
  return [dA, mm(b.op1('Transpose', [flat(a)]), flat(dy))];
}

/**
 * dy·Wᵀ for a constant 2-D W (a frozen base weight) as `Gemm(dy, W, transB=1)` on the flattened batch: no
 * `Transpose(W)`, which onnxruntime would constant-fold into a transposed copy of every frozen weight (a second
 * full copy of the model). Gemm reads W in the orientation it is stored in.
 */
function frozenWeightInputGrad(
  c: GradContext,
  dy: string,
  w: string,
  ra: number | undefined,
  flat: (t: string) => string,
): string {
  const { b } = c;
  const product = b.op1('Gemm', [flat(dy), w], { transB: { int: 1 } });
  return ra === 2 ? product : b.op1('Reshape', [product, b.op1('Shape', [c.x[0]!])]);
}

/** Gemm: Y = alpha·A'·B' + beta·C, with A' = transA ? Aᵀ : A (B likewise). Backward is Gemm again. */
export function gemmGrad(c: GradContext): (string | null)[] {
  const { b, node } = c;
  const [a, w, cc] = c.x;
  const dy = c.dy[0]!;
  const alpha = { float: floatAttr(node, 'alpha', 1) };
  const beta = floatAttr(node, 'beta', 1);
  const [ta, tb] = [intAttr(node, 'transA', 0), intAttr(node, 'transB', 0)];
  const gemm = (p: string, q: string, transA: number, transB: number) =>
    b.op1('Gemm', [p, q], { alpha, transA: { int: transA }, transB: { int: transB } });
  const dA = ta === 0 ? gemm(dy, w!, 0, 1 - tb) : gemm(w!, dy, tb, 1);
  const dB = tb === 0 ? gemm(a!, dy, 1 - ta, 0) : gemm(dy, a!, 1, ta);
  const dC = cc ? (beta === 1 ? dy : b.op1('Mul', [dy, b.f(beta)])) : null;
  return [dA, dB, dC];
}

/** Gradient of a reduction: broadcast dy back over the reduced axes (`axes` an int64 tensor name, or none). */
export function reduceSumGrad(c: GradContext, axes: string | undefined): string {
  const { b, node } = c;
  const x = c.x[0]!;
  let dy = c.dy[0]!;
  if (axes === undefined && intAttr(node, 'noop_with_empty_axes', 0) === 1) return dy;
  if (axes !== undefined && intAttr(node, 'keepdims', 1) === 0) dy = b.op1('Unsqueeze', [dy, axes]);
  return b.op1('Expand', [dy, b.op1('Shape', [x])]);
}

/** ReduceMean = ReduceSum / (elements reduced per output element), the count taken at run time. */
export function reduceMeanGrad(c: GradContext): string {
  const { b, node } = c;
  const attrAxes = intsAttr(node, 'axes');
  const axes = b.opset >= 18 ? c.x[1] || undefined : attrAxes && b.i64(attrAxes);
  const toFloat = (t: string) => b.op1('Cast', [b.op1('Size', [t])], { to: { int: b.floatType } });
  const count = b.op1('Div', [toFloat(c.x[0]!), toFloat(c.y[0]!)]);
  return b.op1('Div', [reduceSumGrad(c, axes), count]);
}

/**
 * Positions of `x`'s elements as an int64 tensor of x's shape: slicing/gathering it with the forward node's own
 * indices tells where each output element came from, for any axes, steps or negative indices.
 */
export function flatPositions(c: GradContext, x: string): string {
  const { b } = c;
  const range = b.op1('Range', [b.i64(0, []), b.op1('Size', [x]), b.i64(1, [])]);
  return b.op1('Reshape', [range, b.op1('Shape', [x])]);
}

/** Scatters dy (any shape) into zeros of x's shape at flat `positions`; `add` accumulates duplicates. */
export function scatterFlat(c: GradContext, x: string, positions: string, add: boolean): string {
  const { b } = c;
  const minusOne = b.i64([-1]);
  const zeros = b.zerosLike(b.op1('Reshape', [x, minusOne]));
  const flatPos = b.op1('Reshape', [positions, minusOne]);
  const flatDy = b.op1('Reshape', [c.dy[0]!, minusOne]);
  if (add && b.opset < 16)
    throw new AutodiffError(
      `gradient needs ScatterElements reduction (opset 16+), model has opset ${b.opset}`,
      {
        opType: c.node.opType,
        node: describeNode(c.node.opType, c.node.domain, c.node.name),
      },
    );
  const attrs: Record<string, AttributeValue> = { axis: { int: 0 } };
  if (add) attrs['reduction'] = { string: 'add' };
  return b.op1('Reshape', [b.op1('ScatterElements', [zeros, flatPos, flatDy], attrs), b.op1('Shape', [x])]);
}

/** Gather along axis 0 (embeddings): ScatterND with reduction `add`, so repeated token ids accumulate. */
export function gatherAxis0Grad(c: GradContext): string {
  const { b } = c;
  const [data, indices] = [c.x[0]!, c.x[1]!];
  if (b.opset < 16)
    throw new AutodiffError(`gradient needs ScatterND reduction (opset 16+), model has opset ${b.opset}`, {
      opType: c.node.opType,
      node: describeNode(c.node.opType, c.node.domain, c.node.name),
    });
  const idx = b.op1('Cast', [indices], { to: { int: DataType.INT64 } });
  const dim0 = b.op1('Gather', [b.op1('Shape', [data]), b.i64(0, [])], { axis: { int: 0 } });
  const wrapped = b.op1('Where', [b.op1('Less', [idx, b.i64(0, [])]), b.op1('Add', [idx, dim0]), idx]);
  const add = { reduction: { string: 'add' } };
  return b.op1('ScatterND', [b.zerosLike(data), b.unsqueeze(wrapped, [-1]), c.dy[0]!], add);
}
