import type { GraphBuilder } from '../graph/graph-builder.js';
import { int64Tensor } from '../graph/tensor-data.js';
import type { StaticDim, StaticInfo } from './static-info.js';

/**
 * Sums gradient `g` (shaped like the broadcast output `y`) back to the shape of input `x`, numpy broadcasting
 * rules: x's shape is left-padded with 1s to g's rank and every axis where the two differ is summed. When x's
 * shape is fully static and g has y's rank (`gradHasOutputRank`), the axes are constants (sumToStaticShape).
 * When both shapes are known up to symbols (inferred, see shape-inference.ts) the axes are constants too.
 * Otherwise the axes are found at run time:
 * `axes = NonZero(pad1(Shape(x)) != Shape(g))`, then `ReduceSum(g, axes, keepdims, noop_with_empty_axes)` and a
 * Reshape to Shape(x) drops the padded axes. Skipped when the declared shapes of x and y are equal.
 */
export function sumToShape(
  b: GraphBuilder,
  info: StaticInfo,
  g: string,
  x: string,
  y: string,
  gradHasOutputRank = true,
  trailingFromX = 0,
): string {
  const sx = info.shape(x);
  let sy = info.shape(y);
  // Batched MatMul: the gradient's last two axes are x's own (only the batch axes broadcast).
  if (trailingFromX && sx && sy && sx.length >= trailingFromX && sy.length >= trailingFromX)
    sy = [...sy.slice(0, sy.length - trailingFromX), ...sx.slice(sx.length - trailingFromX)];
  if (sx && sy && sx.length === sy.length && sx.every((d, i) => d === sy[i])) return g;
  const ry = gradHasOutputRank ? info.rank(y) : undefined;
  if (sx && ry !== undefined && sx.every((d) => typeof d === 'number') && ry >= sx.length)
    return sumToStaticShape(b, g, sx as number[], ry);
  const known = gradHasOutputRank && sx && sy ? symbolicAxes(sx, sy) : undefined;
  if (known) return sumOver(b, g, known, sy!.length - sx!.length);
  const shapeX = b.op1('Shape', [x]);
  const shapeG = b.op1('Shape', [g]);
  const rankGap = b.op1('Sub', [b.op1('Shape', [shapeG]), b.op1('Shape', [shapeX])]);
  const ones = b.op1('ConstantOfShape', [rankGap], { value: { tensor: int64Tensor('value', [1], [1]) } });
  const padded = b.op1('Concat', [ones, shapeX], { axis: { int: 0 } });
  const differs = b.op1('Not', [b.op1('Equal', [padded, shapeG])]);
  const axes = b.op1('Reshape', [b.op1('NonZero', [differs]), b.i64([-1])]);
  const summed = b.op1('ReduceSum', [g, axes], { keepdims: { int: 1 }, noop_with_empty_axes: { int: 1 } });
  return b.op1('Reshape', [summed, shapeX]);
}

/**
 * The axes of y to sum when both shapes are known up to symbols: x's missing leading axes, and axes where x has
 * 1 and y another dim. `undefined` when some axis cannot be told (different symbols: the run-time path decides).
 */
function symbolicAxes(sx: StaticDim[], sy: StaticDim[]): number[] | undefined {
  const lead = sy.length - sx.length;
  if (lead < 0) return undefined;
  const axes = Array.from({ length: lead }, (_, i) => i);
  for (let i = 0; i < sx.length; i++) {
    const [dx, dy] = [sx[i]!, sy[lead + i]!];
    if (dx === dy) continue;
    if (dx === 1) axes.push(lead + i);
    else return undefined;
  }
  return axes;
}

/** ReduceSum over constant `axes` keeping them, then Squeeze of the `lead` axes x lacks. */
function sumOver(b: GraphBuilder, g: string, axes: number[], lead: number): string {
  if (axes.length === 0) return g;
  const kept = axes.length > lead;
  const summed = b.op1('ReduceSum', [g, b.i64(axes)], { keepdims: { int: kept ? 1 : 0 } });
  if (!kept || lead === 0) return summed;
  return b.op1('Squeeze', [summed, b.i64(Array.from({ length: lead }, (_, i) => i))]);
}

/**
 * x's shape is fully known (parameters, initializers): the axes to sum are known without running anything —
 * the leading axes x lacks, and x's size-1 axes (summing an axis that is 1 in g too is harmless). No node at all
 * when x has g's rank and no size-1 axis (broadcasting then forces equal shapes).
 */
function sumToStaticShape(b: GraphBuilder, g: string, sx: number[], rankG: number): string {
  const lead = rankG - sx.length;
  const ones = sx.flatMap((d, i) => (d === 1 ? [lead + i] : []));
  const axes = [...Array.from({ length: lead }, (_, i) => i), ...ones];
  if (axes.length === 0) return g;
  const summed = b.op1('ReduceSum', [g, b.i64(axes)], { keepdims: { int: ones.length ? 1 : 0 } });
  return ones.length ? b.op1('Reshape', [summed, b.i64(sx)]) : summed;
}
