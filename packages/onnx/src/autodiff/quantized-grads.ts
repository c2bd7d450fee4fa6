import { TensorProto_DataType as DataType } from 'onnx-buf';
import { intAttr } from '../graph/attributes.js';
import { AutodiffError, describeNode } from './errors.js';
import type { GradContext } from './rule-context.js';

/**
 * Input-gradients of frozen quantized linears (QLoRA): the base weight is a constant, so only dL/dx flows, as
 * `dy · W` with W the dequantized `[N, K]` weight. W is rebuilt from standard ai.onnx ops (Shape, Reshape, Cast,
 * Mul, Floor, Sub, Concat, Slice, MatMul) so every execution provider runs it (no opset-21 blocked
 * DequantizeLinear: onnxruntime #32730 gave wrong results on WebGPU), and only inside this layer's backward:
 * every chain starts from a view of the packed data shaped by `dy`'s own run-time shape, so onnxruntime can
 * neither constant-fold the dequantized weights of all layers into initializers at session creation nor run
 * them before the backward reaches the layer; each W is freed after its one MatMul.
 */

const fail = (c: GradContext, why: string): never => {
  throw new AutodiffError(`gradient of ${describeNode(c.node.opType, c.node.domain, c.node.name)}: ${why}`, {
    opType: c.node.opType,
    domain: c.node.domain,
    node: c.node.name,
  });
};

/**
 * `packed` (uint8, `bits` per value, low bits first) viewed as `[rows, -1]` with `rows` read at run time, then
 * unpacked into float values `[rows, bytes · 8/bits]`. The arithmetic is exact in float32 (values < 256, powers
 * of two), and avoids integer BitShift/BitwiseAnd, which not every provider registers for uint8.
 */
function unpackRows(c: GradContext, packed: string, rows: string, bits: number): string {
  const { b } = c;
  const view = b.op1('Reshape', [packed, b.op1('Concat', [rows, b.i64([-1])], { axis: { int: 0 } })]);
  const bytes = b.op1('Cast', [view], { to: { int: b.floatType } });
  const perByte = 8 / bits;
  // high[j] = floor(byte / 2^(bits·j)): the byte shifted right by j values; value j = high[j] − 2^bits·high[j+1].
  const high = [bytes];
  for (let j = 1; j < perByte; j++) high.push(b.op1('Floor', [b.op1('Mul', [bytes, b.f(2 ** (-bits * j))])]));
  const values = high.map((h, j) =>
    j + 1 < perByte ? b.op1('Sub', [h, b.op1('Mul', [high[j + 1]!, b.f(2 ** bits)])]) : h,
  );
  if (values.length === 1) return values[0]!;
  const stacked = b.op1(
    'Concat',
    values.map((v) => b.unsqueeze(v, [-1])),
    { axis: { int: -1 } },
  );
  return b.op1('Reshape', [stacked, b.i64([0, -1])]);
}

/**
 * com.microsoft MatMulNBits (`Y = A · dequant(B)ᵀ` with B `[N, nBlocks, blockSize·bits/8]` packed, scales
 * `[N·nBlocks]`, optional zero points packed like B or in the scales' type, default 2^(bits−1)): dA = dy · W.
 * No gradient for B, scales, zero points, g_idx or bias (the base is frozen).
 */
export function matmulNBitsGrad(c: GradContext): (string | null)[] {
  const { b, node } = c;
  const [, packed, scales, zeroPoints, gIdx] = c.x;
  const k = intAttr(node, 'K', 0);
  const n = intAttr(node, 'N', 0);
  const bits = intAttr(node, 'bits', 4);
  const blockSize = intAttr(node, 'block_size', 0);
  if (!(k > 0 && n > 0 && blockSize > 0)) fail(c, 'attributes K, N and block_size must be positive');
  if (![2, 4, 8].includes(bits)) fail(c, `bits ${bits} is not supported (2, 4 or 8)`);
  if (gIdx) fail(c, 'g_idx (act-order) is not supported');
  const scaleType = c.info.elemType(scales!);
  if (scaleType !== undefined && scaleType !== b.floatType)
    fail(c, `scales of type ${DataType[scaleType]} are not supported yet (the backward runs in float32)`);
  const nBlocks = Math.ceil(k / blockSize);
  const dy = c.dy[0]!;
  // N read from dy at run time: the dependency that keeps the dequantization inside this backward step.
  const rows = b.op1('Slice', [b.op1('Shape', [dy]), b.i64([-1]), b.i64([Number.MAX_SAFE_INTEGER])]);
  const q = b.op1('Reshape', [unpackRows(c, packed!, rows, bits), b.i64([n, nBlocks, blockSize])]);
  let zp: string;
  if (!zeroPoints) zp = b.f(2 ** (bits - 1));
  else if (c.info.elemType(zeroPoints) === DataType.UINT8) {
    const all = unpackRows(c, zeroPoints, rows, bits); // [N, ceil(nBlocks·bits/8)·8/bits]
    zp = b.op1('Slice', [all, b.i64([0]), b.i64([nBlocks]), b.i64([1])]);
    zp = b.unsqueeze(zp, [-1]);
  } else zp = b.op1('Reshape', [zeroPoints, b.i64([n, nBlocks, 1])]);
  const scale = b.op1('Reshape', [scales!, b.i64([n, nBlocks, 1])]);
  let w = b.op1('Reshape', [b.op1('Mul', [b.op1('Sub', [q, zp]), scale]), b.i64([n, nBlocks * blockSize])]);
  if (nBlocks * blockSize !== k) w = b.op1('Slice', [w, b.i64([0]), b.i64([k]), b.i64([1])]);
  return c.x.map((_, i) => (i === 0 ? b.op1('MatMul', [dy, w]) : null));
}

/**
 * com.microsoft DynamicQuantizeMatMul (`Y = q(A) · dequant(B) + bias`: A quantized per tensor at run time to
 * uint8, B int8/uint8 `[K, N]`, `dequant(B) = (B − B_zp)·B_scale` with scale and zero point scalar or `[N]`), also
 * the DynamicQuantizeLinear → MatMulInteger → Cast → Mul chain the walker sees as this op (quantized-chains.ts).
 * Straight-through: dA = dy · dequant(B)ᵀ. The exact derivative of the quantized forward is zero almost everywhere
 * (rounding) plus a term through the dynamic scale; QLoRA's convention takes the frozen base as the linear map
 * `x ↦ x·dequant(B)` (the rounding as the identity, the activation's scale as a constant), so the gradient is the
 * one of the fp32 layer whose weight is the dequantized one. B is read as `[-1, N]` with N from dy at run time,
 * for the same reason as above: this layer's weight is dequantized only inside its own backward.
 */
export function dynamicQuantizeMatMulGrad(c: GradContext): (string | null)[] {
  const { b } = c;
  const [, weight, scale, zeroPoint] = c.x;
  const wType = c.info.elemType(weight!);
  if (wType !== undefined && wType !== DataType.INT8 && wType !== DataType.UINT8)
    fail(c, `weight "${weight}" is ${DataType[wType]}, expected INT8 or UINT8`);
  const wShape = c.info.shape(weight!);
  if (wShape && wShape.length !== 2)
    fail(c, `weight "${weight}" has rank ${wShape.length}, expected 2 ([K, N])`);
  const n = wShape?.[1];
  for (const t of [scale, zeroPoint]) {
    const s = t ? c.info.shape(t) : undefined;
    const size = s?.reduce<number | undefined>(
      (a, d) => (typeof a === 'number' && typeof d === 'number' ? a * d : undefined),
      1,
    );
    if (
      s &&
      (s.length > 1 || (typeof size === 'number' && size !== 1 && typeof n === 'number' && size !== n))
    )
      fail(
        c,
        `"${t}" has shape [${s.join(', ')}]: expected a scalar or one value per output column ([${n}])`,
      );
  }
  const scaleType = c.info.elemType(scale!);
  if (scaleType !== undefined && scaleType !== b.floatType)
    fail(c, `scale of type ${DataType[scaleType]} is not supported yet (the backward runs in float32)`);
  const dy = c.dy[0]!;
  const cols = b.op1('Slice', [b.op1('Shape', [dy]), b.i64([-1]), b.i64([Number.MAX_SAFE_INTEGER])]);
  const view = b.op1('Reshape', [weight!, b.op1('Concat', [b.i64([-1]), cols], { axis: { int: 0 } })]);
  let w = b.op1('Cast', [view], { to: { int: b.floatType } });
  if (zeroPoint) w = b.op1('Sub', [w, b.op1('Cast', [zeroPoint], { to: { int: b.floatType } })]);
  w = b.op1('Mul', [w, scale!]);
  // dy·Wᵀ as one Gemm over the flattened rows (transB reads W as it is: no transposed copy of the weight).
  const rows = b.op1('Reshape', [dy, b.op1('Concat', [b.i64([-1]), cols], { axis: { int: 0 } })]);
  const dx = b.op1('Gemm', [rows, w], { transB: { int: 1 } });
  return c.x.map((_, i) => (i === 0 ? b.op1('Reshape', [dx, b.op1('Shape', [c.x[0]!])]) : null));
}
