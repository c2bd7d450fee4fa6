import { intAttr, intsAttr, stringAttr } from '../graph/attributes.js';
import { AutodiffError, describeNode } from './errors.js';
import type { GradContext, GradientRule } from './rule-context.js';
import {
  flatPositions,
  gatherAxis0Grad,
  gemmGrad,
  matmulGrad,
  reduceMeanGrad,
  reduceSumGrad,
  scatterFlat,
} from './rule-helpers.js';
import { dynamicQuantizeMatMulGrad, matmulNBitsGrad } from './quantized-grads.js';

export type { GradContext, GradientRule } from './rule-context.js';

// Short-hands: every rule below reads `c` (see GradContext); `dy` is the gradient of output 0.
const dy0 = (c: GradContext) => c.dy[0]!;
const op = (c: GradContext, type: string, ...inputs: string[]) => c.b.op1(type, inputs);
const mul = (c: GradContext, a: string, b: string) => op(c, 'Mul', a, b);
const reshapeLike = (c: GradContext, g: string, x: string) => op(c, 'Reshape', g, op(c, 'Shape', x));
const axisOf = (c: GradContext, fallback: number) => intAttr(c.node, 'axis', fallback);
const axisAttr = (c: GradContext, fallback: number) => ({ axis: { int: axisOf(c, fallback) } });
/** The inputs' extents along the Concat axis: constants when static, else read at run time. */
function concatSizes(c: GradContext, axis: number): string {
  const known = c.x.map((x) => {
    const shape = c.info.shape(x);
    const d = shape?.[axis < 0 ? shape.length + axis : axis];
    return typeof d === 'number' ? d : undefined;
  });
  if (known.every((d) => d !== undefined)) return c.b.i64(known);
  const at = c.b.i64([axis]);
  const sizes = c.x.map((x) => c.b.op1('Gather', [op(c, 'Shape', x), at], { axis: { int: 0 } }));
  return c.b.op1('Concat', sizes, { axis: { int: 0 } });
}

/**
 * A Slice with unit steps and constant starts/ends/axes over static extents is a crop: its gradient is dy padded
 * back with zeros (one Pad) instead of a scatter over x's flat positions (Range, Reshape, ScatterElements over
 * all of x: the rotary halves of every attention layer). Returns Pad's `pads`, or undefined for the general case.
 */
function sliceAsPads(c: GradContext): number[] | undefined {
  const [x, starts, ends, axesIn, steps] = c.x;
  const shape = c.info.shape(x!);
  const known = (t: string | undefined) => (t ? c.info.intValues(t) : undefined);
  const [s, e] = [known(starts), known(ends)];
  const axes = axesIn ? known(axesIn) : s?.map((_, i) => i);
  const stepValues = steps ? known(steps) : s?.map(() => 1);
  const numbers = (v: unknown[] | undefined): v is number[] => !!v && v.every((d) => typeof d === 'number');
  if (!shape || !numbers(s) || !numbers(e) || !numbers(axes) || !numbers(stepValues)) return undefined;
  if (stepValues.some((step) => step !== 1)) return undefined;
  const rank = shape.length;
  const pads = new Array<number>(2 * rank).fill(0);
  for (let i = 0; i < axes.length; i++) {
    const axis = axes[i]! < 0 ? axes[i]! + rank : axes[i]!;
    const dim = shape[axis];
    if (typeof dim !== 'number') return undefined;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const start = clamp(s[i]!);
    const end = Math.max(clamp(e[i]!), start);
    pads[axis] = start;
    pads[rank + axis] = dim - end;
  }
  return pads;
}

/** The exponent of Pow in the base's float type (Pow allows an integer exponent). */
const floatExponent = (c: GradContext) =>
  c.info.elemType(c.x[1]!) === c.b.floatType
    ? c.x[1]!
    : c.b.op1('Cast', [c.x[1]!], { to: { int: c.b.floatType } });

/**
 * The gradient table, keyed by `domain:opType` (`:MatMul` for ai.onnx). Each rule returns one gradient per
 * input (null where none flows). Broadcasting is not handled here: rules flagged `broadcast` get their results
 * summed back to each input's shape by the walker. Fused ops are decomposed into these primitives beforehand
 * (decompose.ts). Every entry has a generated finite-difference check (test/autodiff/gradient-rules.test.ts).
 */
export const GRADIENT_RULES: ReadonlyMap<string, GradientRule> = new Map<string, GradientRule>(
  Object.entries<GradientRule>({
    Add: { broadcast: true, grad: (c) => [dy0(c), dy0(c)] },
    Sub: { broadcast: true, grad: (c) => [dy0(c), op(c, 'Neg', dy0(c))] },
    Mul: { broadcast: true, grad: (c) => [mul(c, dy0(c), c.x[1]!), mul(c, dy0(c), c.x[0]!)] },
    Div: {
      broadcast: true,
      grad: (c) => [
        op(c, 'Div', dy0(c), c.x[1]!),
        op(c, 'Neg', op(c, 'Div', mul(c, dy0(c), c.y[0]!), c.x[1]!)),
      ],
    },
    Pow: {
      broadcast: true,
      grad: (c) => {
        // A constant exponent (x² in RMSNorm): no Pow kernel for the base's gradient, or a constant e−1.
        const known = c.info.intValues(c.x[1]!)?.[0];
        if (typeof known === 'number' && c.info.elemType(c.x[1]!) === c.b.floatType) {
          const slope =
            known === 2
              ? mul(c, c.x[0]!, c.b.f(2))
              : mul(c, c.b.f(known), op(c, 'Pow', c.x[0]!, c.b.f(known - 1)));
          return [mul(c, dy0(c), slope), mul(c, dy0(c), mul(c, c.y[0]!, op(c, 'Log', c.x[0]!)))];
        }
        const e = floatExponent(c);
        const dBase = mul(c, dy0(c), mul(c, e, op(c, 'Pow', c.x[0]!, op(c, 'Sub', e, c.b.f(1)))));
        return [dBase, mul(c, dy0(c), mul(c, c.y[0]!, op(c, 'Log', c.x[0]!)))];
      },
    },
    Sum: { broadcast: true, grad: (c) => c.x.map(() => dy0(c)) },
    Max: { broadcast: true, grad: (c) => minMaxGrad(c) },
    Min: { broadcast: true, grad: (c) => minMaxGrad(c) },
    Where: {
      broadcast: true,
      grad: (c) => [
        null,
        op(c, 'Where', c.x[0]!, dy0(c), c.b.f(0)),
        op(c, 'Where', c.x[0]!, c.b.f(0), dy0(c)),
      ],
    },
    Expand: { broadcast: true, grad: (c) => [dy0(c), null] },
    MatMul: {
      broadcast: true,
      grad: matmulGrad,
      // Against a 2-D weight nothing broadcasts: dA is dy·Wᵀ in A's shape (A of rank ≥ 2; unknown ranks are
      // taken as ≥ 2, as matmulGrad does) and dW is the flattened-batch product in W's shape.
      exact: (c) => {
        const [ra, rb] = [c.info.rank(c.x[0]!), c.info.rank(c.x[1]!)];
        return rb === 2 && ra !== 1 ? [true, true] : [false, false];
      },
    },
    Gemm: { broadcast: true, grad: gemmGrad },
    Neg: { grad: (c) => [op(c, 'Neg', dy0(c))] },
    Identity: { grad: (c) => [dy0(c)] },
    Abs: { grad: (c) => [mul(c, dy0(c), op(c, 'Sign', c.x[0]!))] },
    Sqrt: { grad: (c) => [op(c, 'Div', mul(c, dy0(c), c.b.f(0.5)), c.y[0]!)] },
    Reciprocal: { grad: (c) => [op(c, 'Neg', mul(c, dy0(c), mul(c, c.y[0]!, c.y[0]!)))] },
    Exp: { grad: (c) => [mul(c, dy0(c), c.y[0]!)] },
    Log: { grad: (c) => [op(c, 'Div', dy0(c), c.x[0]!)] },
    Sin: { grad: (c) => [mul(c, dy0(c), op(c, 'Cos', c.x[0]!))] },
    Cos: { grad: (c) => [op(c, 'Neg', mul(c, dy0(c), op(c, 'Sin', c.x[0]!)))] },
    Tanh: { grad: (c) => [mul(c, dy0(c), op(c, 'Sub', c.b.f(1), mul(c, c.y[0]!, c.y[0]!)))] },
    Sigmoid: { grad: (c) => [mul(c, dy0(c), mul(c, c.y[0]!, op(c, 'Sub', c.b.f(1), c.y[0]!)))] },
    Erf: {
      // d erf(x)/dx = 2/√π · exp(−x²)
      grad: (c) => [
        mul(
          c,
          dy0(c),
          mul(c, c.b.f(2 / Math.sqrt(Math.PI)), op(c, 'Exp', op(c, 'Neg', mul(c, c.x[0]!, c.x[0]!)))),
        ),
      ],
    },
    Relu: { grad: (c) => [op(c, 'Where', op(c, 'Greater', c.x[0]!, c.b.f(0)), dy0(c), c.b.f(0))] },
    Softmax: {
      grad: (c) => {
        const s = c.b.reduceSum(mul(c, dy0(c), c.y[0]!), [axisOf(c, -1)], true);
        return [mul(c, c.y[0]!, op(c, 'Sub', dy0(c), s))];
      },
    },
    LogSoftmax: {
      grad: (c) => [
        op(c, 'Sub', dy0(c), mul(c, op(c, 'Exp', c.y[0]!), c.b.reduceSum(dy0(c), [axisOf(c, -1)], true))),
      ],
    },
    ReduceSum: { grad: (c) => [reduceSumGrad(c, c.x[1] || undefined), null] },
    ReduceMean: { grad: (c) => [reduceMeanGrad(c), null] },
    Cast: {
      // Only float→float casts reach here (casts to integers are NO_GRADIENT): cast back to the input's type.
      grad: (c) => [c.b.op1('Cast', [dy0(c)], { to: { int: c.info.elemType(c.x[0]!) ?? c.b.floatType } })],
    },
    Transpose: {
      grad: (c) => {
        const perm = intsAttr(c.node, 'perm');
        if (perm === undefined) return [op(c, 'Transpose', dy0(c))]; // reversal is its own inverse
        return [
          c.b.transpose(
            dy0(c),
            perm.map((_, i) => perm.indexOf(i)),
          ),
        ];
      },
    },
    Reshape: { grad: (c) => [reshapeLike(c, dy0(c), c.x[0]!), null] },
    Flatten: { grad: (c) => [reshapeLike(c, dy0(c), c.x[0]!)] },
    Squeeze: { grad: (c) => [reshapeLike(c, dy0(c), c.x[0]!), null] },
    Unsqueeze: { grad: (c) => [reshapeLike(c, dy0(c), c.x[0]!), null] },
    Concat: {
      grad: (c) => {
        const axis = axisOf(c, 0);
        return c.b.op('Split', [dy0(c), concatSizes(c, axis)], { axis: { int: axis } }, c.x.length);
      },
    },
    Split: {
      grad: (c) => {
        const parts = c.y.map((y, i) => c.dy[i] ?? c.b.zerosLike(y));
        return [c.b.op1('Concat', parts, axisAttr(c, 0)), null];
      },
    },
    Slice: {
      grad: (c) => {
        const pads = sliceAsPads(c);
        if (pads) return [c.b.op1('Pad', [dy0(c), c.b.i64(pads)]), null, null, null, null];
        const positions = c.b.op1('Slice', [flatPositions(c, c.x[0]!), ...c.x.slice(1)]);
        return [scatterFlat(c, c.x[0]!, positions, false), null, null, null, null];
      },
    },
    Gather: {
      grad: (c) => {
        if (axisOf(c, 0) === 0) return [gatherAxis0Grad(c), null];
        const positions = c.b.op1('Gather', [flatPositions(c, c.x[0]!), c.x[1]!], axisAttr(c, 0));
        return [scatterFlat(c, c.x[0]!, positions, true), null];
      },
    },
    GatherElements: { grad: gatherElementsGrad },
    TopK: {
      grad: (c) => {
        // top-k indices are distinct along the axis, so a plain scatter puts each value's gradient back.
        const zeros = c.b.zerosLike(c.x[0]!);
        const dValues = c.dy[0] ?? c.b.zerosLike(c.y[0]!);
        return [c.b.op1('ScatterElements', [zeros, c.y[1]!, dValues], axisAttr(c, -1)), null];
      },
    },
    ScatterElements: { grad: scatterElementsGrad },
  })
    .map(([opType, rule]): [string, GradientRule] => [`:${opType}`, rule])
    .concat([
      // Frozen quantized base layers (QLoRA): dx through the dequantized weight, none for the packed data.
      ['com.microsoft:MatMulNBits', { grad: matmulNBitsGrad }],
      // q8 (and the DynamicQuantizeLinear → MatMulInteger chain, seen as this op): straight-through, see the rule.
      ['com.microsoft:DynamicQuantizeMatMul', { grad: dynamicQuantizeMatMulGrad, straightThrough: true }],
    ]),
);

/**
 * GatherElements: dy scattered back into zeros of x's shape, repeated indices accumulating (ScatterElements
 * reduction `add`, opset 16). Indices one wide along the axis (a cross-entropy's label pick) cannot repeat, so
 * there a plain ScatterElements (opset 11) does, and every training opset has it.
 */
function gatherElementsGrad(c: GradContext): (string | null)[] {
  const axis = axisOf(c, 0);
  const shape = c.info.shape(c.x[1]!);
  const oneWide = shape?.[axis < 0 ? shape.length + axis : axis] === 1;
  if (!oneWide && c.b.opset < 16)
    throw new AutodiffError(
      `gradient of ${describeNode(c.node.opType, c.node.domain, c.node.name)} needs ScatterElements reduction (opset 16+) unless its indices are one wide along the axis; model has opset ${c.b.opset}`,
      { opType: c.node.opType, node: c.node.name },
    );
  const attrs = c.b.opset >= 16 ? { ...axisAttr(c, 0), reduction: { string: 'add' } } : axisAttr(c, 0);
  return [c.b.op1('ScatterElements', [c.b.zerosLike(c.x[0]!), c.x[1]!, dy0(c)], attrs), null];
}

/**
 * ScatterElements: `updates` receive the gradient at the positions they were written to (GatherElements);
 * `data` keeps it everywhere except where it was overwritten (reduction `none`) or all of it (`add`).
 */
function scatterElementsGrad(c: GradContext): (string | null)[] {
  const { b, node } = c;
  const mode = stringAttr(node, 'reduction', 'none');
  if (mode !== 'none' && mode !== 'add')
    throw new AutodiffError(`ScatterElements gradient supports reduction none or add, not ${mode}`, {
      opType: node.opType,
      node: describeNode(node.opType, node.domain, node.name),
    });
  const [indices, updates] = [c.x[1]!, c.x[2]!];
  const axis = axisAttr(c, 0);
  const dUpdates = b.op1('GatherElements', [dy0(c), indices], axis);
  const dData =
    mode === 'add' ? dy0(c) : b.op1('ScatterElements', [dy0(c), indices, b.zerosLike(updates)], axis);
  return [dData, null, dUpdates];
}

/** Max/Min of two inputs: the gradient goes to the input that won (the first one on ties). */
function minMaxGrad(c: GradContext): (string | null)[] {
  if (c.x.length === 1) return [dy0(c)];
  if (c.x.length !== 2)
    throw new AutodiffError(`${c.node.opType} gradient supports 1 or 2 inputs, got ${c.x.length}`, {
      opType: c.node.opType,
      node: describeNode(c.node.opType, c.node.domain, c.node.name),
    });
  const won = op(c, 'Equal', c.x[0]!, c.y[0]!);
  return [op(c, 'Where', won, dy0(c), c.b.f(0)), op(c, 'Where', won, c.b.f(0), dy0(c))];
}
