import {
  TensorProto_DataType as DataType,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from 'onnx-buf';
import { intAttr, intsAttr, tensorAttr } from '../graph/attributes.js';
import { opKey } from '../graph/graph-index.js';
import { inferElemTypes } from './elem-types.js';

/** One dimension when known statically: a size, or a symbolic name (`batch_size`). */
export type StaticDim = number | string;

/** Small integer tensors (shape vectors, axes, indices) whose elements are known: numbers or symbolic dims. */
export type KnownValues = Map<string, StaticDim[]>;

/** Int tensors longer than this are not tracked by value (they are data, not shape arithmetic). */
const MAX_TRACKED_VALUES = 64;
const BIG = 2 ** 62; // "to the end" in Slice ends (INT64_MAX and the like)

/** `opKey`s (`:Op` for ai.onnx) from a list of names. */
const keys = (domain: string, ops: string) => ops.split(' ').map((op) => `${domain}:${op}`);
/** Ops whose output 0 has the shape of input 0. */
const UNARY = new Set([
  ...keys(
    '',
    'Identity Cast CastLike Neg Sqrt Relu Exp Log Tanh Erf Sigmoid Reciprocal Softmax LogSoftmax Abs Dropout ' +
      'Gelu Cos Sin Not IsNaN IsInf Sign Floor Ceil Round Trilu LayerNormalization SimplifiedLayerNormalization ' +
      'FastGelu QuickGelu Softplus LeakyRelu Elu HardSigmoid',
  ),
  ...keys('com.microsoft', 'FastGelu Gelu'),
]);
/** Ops whose output broadcasts their inputs (numpy rules). */
const BROADCAST = new Set(
  keys(
    '',
    'Add Sub Mul Div Pow Where Max Min Sum Mean Equal Less Greater LessOrEqual GreaterOrEqual And Or Xor Mod',
  ),
);

function tensorInts(t: TensorProto): number[] | undefined {
  const size = t.dims.reduce((s, d) => s * Number(d), 1);
  if (t.dataType === DataType.FLOAT && size === 1) {
    // float scalars too: exponents and the like, which gradient rules specialise on
    if (t.floatData.length) return [t.floatData[0]!];
    if (t.rawData.length === 4)
      return [new DataView(t.rawData.buffer, t.rawData.byteOffset, 4).getFloat32(0, true)];
    return undefined;
  }
  if (t.dataType !== DataType.INT64 && t.dataType !== DataType.INT32) return undefined;
  if (size > MAX_TRACKED_VALUES) return undefined;
  if (t.int64Data.length) return t.int64Data.map(Number);
  if (t.int32Data.length) return [...t.int32Data];
  if (t.rawData.length) {
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    const width = t.dataType === DataType.INT64 ? 8 : 4;
    return Array.from({ length: size }, (_, i) =>
      width === 8 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true),
    );
  }
  return size === 0 ? [] : undefined;
}

/** numpy broadcasting of two dims; a fresh unknown when two different symbols meet. */
function broadcastDim(a: StaticDim, b: StaticDim, fresh: () => string): StaticDim {
  if (a === b || b === 1) return a;
  if (a === 1) return b;
  if (typeof a === 'number') return a; // b is a symbol that must be a (or 1)
  if (typeof b === 'number') return b;
  return fresh();
}

function broadcast(shapes: StaticDim[][], fresh: () => string): StaticDim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) =>
    shapes
      .map((s) => s[i - (rank - s.length)] ?? 1)
      .reduce<StaticDim>((x, y) => broadcastDim(x, y, fresh), 1),
  );
}

/** A product of dims in one canonical form, so equal products compare equal (`2*batch_size*sequence_length`). */
function product(dims: StaticDim[]): StaticDim {
  let n = 1;
  const symbols: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else if (d.startsWith('?')) return `?prod(${dims.join(',')})`;
    else symbols.push(...d.split('*').filter((p) => (/^\d+$/.test(p) ? ((n *= Number(p)), false) : true)));
  }
  if (!symbols.length) return n;
  if (n === 0) return 0;
  return [...(n === 1 ? [] : [String(n)]), ...symbols.sort()].join('*');
}

/** `total / known` as a dim, when the symbols of `known` all occur in `total`. */
function divide(total: StaticDim, known: StaticDim[]): StaticDim | undefined {
  const factors = (d: StaticDim) =>
    typeof d === 'number' ? { n: d, s: [] as string[] } : { n: 1, s: d.split('*') };
  const t = factors(total);
  let n = t.n;
  const s = [...t.s];
  for (const d of known) {
    const f = factors(d);
    for (const sym of f.s) {
      if (/^\d+$/.test(sym)) {
        n /= Number(sym);
        continue;
      }
      const at = s.indexOf(sym);
      if (at < 0) return undefined;
      s.splice(at, 1);
    }
    n /= f.n;
  }
  const numeric = s.filter((p) => /^\d+$/.test(p));
  for (const p of numeric) n *= Number(p);
  const symbols = s.filter((p) => !/^\d+$/.test(p));
  if (!Number.isInteger(n) || symbols.some((p) => p.startsWith('?'))) return undefined;
  return product([n, ...symbols]);
}

/**
 * Element-wise Add/Sub/Mul/Div of shape values: numbers, and the symbolic cases exports use (n−n, n+0, n·1).
 * Div only where it divides exactly (`head_dim / 2` of rotary halves): then integer and float division agree,
 * and element types are not tracked here.
 */
function arithmetic(
  op: string,
  a: StaticDim[] | undefined,
  b: StaticDim[] | undefined,
): StaticDim[] | undefined {
  if (!a || !b || (a.length !== b.length && a.length !== 1 && b.length !== 1)) return undefined;
  const one = (p: StaticDim, q: StaticDim): StaticDim | undefined => {
    if (typeof p === 'number' && typeof q === 'number')
      return op === 'Add'
        ? p + q
        : op === 'Sub'
          ? p - q
          : op === 'Mul'
            ? p * q
            : op === 'Div' && q !== 0 && p % q === 0
              ? p / q
              : undefined;
    if (op === 'Sub') return p === q ? 0 : q === 0 ? p : undefined;
    if (op === 'Add') return p === 0 ? q : q === 0 ? p : undefined;
    if (op === 'Mul') return product([p, q]);
    return undefined;
  };
  const out = Array.from({ length: Math.max(a.length, b.length) }, (_, i) =>
    one(a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!),
  );
  return out.every((d) => d !== undefined) ? out : undefined;
}

const normalizeAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/**
 * Static shape inference with symbolic dims, enough for the decoder and encoder exports we train (TorchScript
 * and Optimum: shape arithmetic through Shape/Gather/Concat/Reshape): fills `shapes` for every tensor it can
 * tell, without overriding declared ones, and tracks the values of small int tensors. Unknown dims get unique
 * names (`?<tensor>#<axis>`), so they never compare equal to another dim; a tensor whose rank is known but no
 * dim gets a shape of unknowns (the rank is what the autodiff needs most). The one op table of the autodiff.
 */
export function inferShapes(
  graph: GraphProto,
  shapes: Map<string, StaticDim[]>,
  elems: Map<string, number>,
): KnownValues {
  const values: KnownValues = new Map();
  for (const t of graph.initializer) {
    const v = tensorInts(t);
    if (v) values.set(t.name, v);
  }
  let counter = 0;
  for (const node of graph.node) {
    inferNode(node, shapes, elems, values, () => `?${node.output[0] ?? ''}#${counter++}`);
    inferElemTypes(node, elems);
  }
  return values;
}

function inferNode(
  node: NodeProto,
  shapes: Map<string, StaticDim[]>,
  elems: Map<string, number>,
  values: KnownValues,
  fresh: () => string,
): void {
  const op = opKey(node);
  const inShape = (i: number) => (node.input[i] ? shapes.get(node.input[i]!) : undefined);
  const inValues = (i: number) => (node.input[i] ? values.get(node.input[i]!) : undefined);
  const numbers = (i: number) => {
    const v = inValues(i);
    return v?.every((d) => typeof d === 'number') ? (v as number[]) : undefined;
  };
  const set = (k: number, shape: StaticDim[] | undefined, v?: StaticDim[]) => {
    const out = node.output[k];
    if (!out) return;
    if (shape && !shapes.has(out)) shapes.set(out, shape);
    if (v && v.length <= MAX_TRACKED_VALUES) values.set(out, v);
  };
  const x = inShape(0);
  const unknowns = (rank: number) => Array.from({ length: rank }, fresh);

  if (op === ':Constant') {
    const t = tensorAttr(node, 'value');
    if (t) {
      set(0, t.dims.map(Number), tensorInts(t));
      elems.set(node.output[0]!, t.dataType);
    }
    return;
  }
  if (UNARY.has(op)) {
    const v = op === ':Identity' || op === ':Cast' ? inValues(0) : undefined;
    const neg = op === ':Neg' ? numbers(0)?.map((n) => -n) : undefined;
    set(0, x, neg ?? v);
    return;
  }
  if (BROADCAST.has(op)) {
    const all = node.input.map((_, i) => inShape(i));
    if (all.some((s) => s === undefined)) return;
    const shape = broadcast(all as StaticDim[][], fresh);
    const v =
      node.input.length === 2 && shape.length <= 1
        ? arithmetic(node.opType, inValues(0), inValues(1))
        : undefined;
    set(0, shape, v);
    return;
  }
  switch (op) {
    case ':Shape': {
      if (!x) return set(0, unknowns(1));
      const start = normalizeAxis(intAttr(node, 'start', 0), x.length);
      const endAttr = node.attribute.find((a) => a.name === 'end');
      const end = endAttr ? normalizeAxis(Number(endAttr.i), x.length) : x.length;
      const v = x.slice(Math.max(0, start), Math.min(x.length, end));
      set(0, [v.length], v);
      return;
    }
    case ':Size':
      set(0, [], x ? [product(x)] : undefined);
      return;
    case ':ConstantOfShape':
      set(0, inValues(0));
      return;
    case ':MatMul': {
      const [a, b] = [inShape(0), inShape(1)];
      if (!a || !b) return;
      if (a.length === 1 && b.length === 1) return set(0, []);
      if (a.length === 1) return set(0, [...b.slice(0, -2), b.at(-1)!]);
      if (b.length === 1) return set(0, a.slice(0, -1));
      const batch = broadcast([a.slice(0, -2), b.slice(0, -2)], fresh);
      set(0, [...batch, a.at(-2)!, b.at(-1)!]);
      return;
    }
    case ':Gemm': {
      const [a, b] = [inShape(0), inShape(1)];
      if (!a || !b) return set(0, unknowns(2));
      const m = intAttr(node, 'transA', 0) ? a[1]! : a[0]!;
      const n = intAttr(node, 'transB', 0) ? b[0]! : b[1]!;
      set(0, [m, n]);
      return;
    }
    case ':Transpose': {
      const given = intsAttr(node, 'perm');
      if (!x) return set(0, given && unknowns(given.length));
      const perm = given ?? x.map((_, i) => x.length - 1 - i);
      set(
        0,
        perm.map((p) => x[p]!),
      );
      return;
    }
    case ':Reshape': {
      const target = inValues(1);
      if (!target) return;
      const allowZero = intAttr(node, 'allowzero', 0) === 1;
      const out = target.map((d, i) => (d === 0 && !allowZero ? x?.[i] : d));
      const minus = out.findIndex((d) => d === -1);
      if (minus >= 0) {
        const rest = out.filter((_, i) => i !== minus);
        const inferred =
          x && rest.every((d) => d !== undefined) ? divide(product(x), rest as StaticDim[]) : undefined;
        out[minus] = inferred ?? fresh();
      }
      set(
        0,
        out.map((d) => d ?? fresh()),
        x && x.length <= 1 ? inValues(0) : undefined,
      );
      return;
    }
    case ':Flatten': {
      if (!x) return set(0, unknowns(2));
      const axis = normalizeAxis(intAttr(node, 'axis', 1), x.length);
      set(0, [product(x.slice(0, axis)), product(x.slice(axis))]);
      return;
    }
    case ':Unsqueeze':
    case ':Squeeze': {
      const axes = node.input[1] ? numbers(1) : intsAttr(node, 'axes');
      const v = inValues(0);
      if (!x) return;
      if (op === ':Squeeze') {
        if (!axes)
          return set(
            0,
            x.filter((d) => d !== 1),
            v,
          );
        const drop = new Set(axes.map((a) => normalizeAxis(a, x.length)));
        set(
          0,
          x.filter((_, i) => !drop.has(i)),
          v,
        );
        return;
      }
      if (!axes) return;
      const rank = x.length + axes.length;
      const add = new Set(axes.map((a) => normalizeAxis(a, rank)));
      const out: StaticDim[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) out.push(add.has(i) ? 1 : x[k++]!);
      set(0, out, v);
      return;
    }
    case ':Concat': {
      const all = node.input.map((_, i) => inShape(i));
      const some = all.find((s) => s !== undefined);
      if (some && all.some((s) => s === undefined)) {
        const axis = normalizeAxis(intAttr(node, 'axis', 0), some.length);
        return set(
          0,
          some.map((d, i) => (i === axis ? fresh() : d)),
        );
      }
      if (!some) return;
      const list = all as StaticDim[][];
      const axis = normalizeAxis(intAttr(node, 'axis', 0), list[0]!.length);
      const along = list.map((s) => s[axis]!);
      const sum = along.every((d) => typeof d === 'number')
        ? (along as number[]).reduce((s, d) => s + d, 0)
        : along.filter((d) => d !== 0).length === 1
          ? along.find((d) => d !== 0)!
          : fresh();
      const shape = list[0]!.map((d, i) => (i === axis ? sum : d));
      const vs = node.input.map((_, i) => inValues(i));
      set(0, shape, list[0]!.length === 1 && vs.every((v) => v) ? vs.flatMap((v) => v!) : undefined);
      return;
    }
    case ':Split': {
      if (!x) return;
      const axis = normalizeAxis(intAttr(node, 'axis', 0), x.length);
      const sizes = node.input[1] ? numbers(1) : intsAttr(node, 'split');
      const count = node.output.length;
      const dim = x[axis]!;
      const parts =
        sizes ?? (typeof dim === 'number' && dim % count === 0 ? Array(count).fill(dim / count) : undefined);
      node.output.forEach((_, k) =>
        set(
          k,
          x.map((d, i) => (i === axis ? (parts ? parts[k]! : fresh()) : d)),
        ),
      );
      return;
    }
    case ':Slice': {
      if (!x) return;
      const [starts, ends] = [numbers(1), numbers(2)];
      const axes = node.input[3] ? numbers(3) : starts?.map((_, i) => i);
      const steps = node.input[4] ? numbers(4) : starts?.map(() => 1);
      if (!starts || !ends || !axes || !steps)
        return set(
          0,
          x.map(() => fresh()),
        );
      const out = [...x];
      const v = inValues(0);
      let sliced = v;
      axes.forEach((a, j) => {
        const axis = normalizeAxis(a, x.length);
        const dim = x[axis]!;
        const [s, e, st] = [starts[j]!, ends[j]!, steps[j]!];
        if (typeof dim === 'number') {
          const clamp = (p: number, lo: number, hi: number) =>
            Math.min(Math.max(p < 0 ? p + dim : p, lo), hi);
          const [lo, hi] =
            st > 0 ? [clamp(s, 0, dim), clamp(e, 0, dim)] : [clamp(s, -1, dim - 1), clamp(e, -1, dim - 1)];
          out[axis] = Math.max(0, Math.ceil((hi - lo) / st));
          if (axis === 0 && x.length === 1 && v && st === 1) sliced = v.slice(lo, hi);
        } else if (s === 0 && e >= BIG && st === 1) out[axis] = dim;
        else {
          out[axis] = fresh();
          sliced = undefined;
        }
      });
      set(0, out, x.length === 1 ? sliced : undefined);
      return;
    }
    case ':Gather': {
      const idx = inShape(1);
      if (!x || !idx) return;
      const axis = normalizeAxis(intAttr(node, 'axis', 0), x.length);
      const v = inValues(0);
      const at = numbers(1);
      let picked: StaticDim[] | undefined;
      if (v && at && x.length === 1) picked = at.map((i) => v[i < 0 ? i + v.length : i]!);
      set(0, [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)], picked);
      return;
    }
    case ':GatherElements':
      set(0, inShape(1));
      return;
    case ':ScatterElements':
    case ':ScatterND':
      set(0, x);
      return;
    case ':Expand': {
      // Unknown target values still tell the rank (the mask and rotary Expands of exports).
      const length = inShape(1)?.[0];
      const target = inValues(1) ?? (typeof length === 'number' ? unknowns(length) : undefined);
      if (!x || !target) return;
      set(0, broadcast([x, target], fresh));
      return;
    }
    case ':Range': {
      const [s, l, d] = [numbers(0), numbers(1), numbers(2)];
      const limit = inValues(1)?.[0];
      if (s && l && d) set(0, [Math.max(0, Math.ceil((l[0]! - s[0]!) / d[0]!))]);
      // Range(0, n, 1) over a symbolic n (positions up to the sequence length) has n elements.
      else if (s?.[0] === 0 && d?.[0] === 1 && limit !== undefined) set(0, [limit]);
      else set(0, [fresh()]);
      return;
    }
    case ':Pad': {
      const pads = node.input[1] ? numbers(1) : intsAttr(node, 'pads');
      if (!x || !pads || pads.length !== 2 * x.length || node.input[3]) return;
      set(
        0,
        x.map((d, i) => {
          const extra = pads[i]! + pads[i + x.length]!;
          return extra === 0 ? d : typeof d === 'number' ? d + extra : fresh();
        }),
      );
      return;
    }
    case ':TopK': {
      const k = numbers(1)?.[0];
      if (!x || k === undefined) return;
      const axis = normalizeAxis(intAttr(node, 'axis', -1), x.length);
      const shape = x.map((d, i) => (i === axis ? k : d));
      set(0, shape);
      set(1, shape);
      return;
    }
    case ':ArgMax':
    case ':ArgMin': {
      if (!x) return;
      const axis = normalizeAxis(intAttr(node, 'axis', 0), x.length);
      const keep = intAttr(node, 'keepdims', 1) === 1;
      set(0, keep ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis));
      return;
    }
    default:
      if (op.startsWith(':Reduce') && x) {
        const axes = node.input[1] ? numbers(1) : intsAttr(node, 'axes');
        const keep = intAttr(node, 'keepdims', 1) === 1;
        if (node.input[1] && !axes) return set(0, keep ? unknowns(x.length) : undefined);
        if (!axes?.length && intAttr(node, 'noop_with_empty_axes', 0) === 1) return set(0, x);
        const reduced = new Set(
          (axes?.length ? axes : x.map((_, i) => i)).map((a) => normalizeAxis(a, x.length)),
        );
        set(0, keep ? x.map((d, i) => (reduced.has(i) ? 1 : d)) : x.filter((_, i) => !reduced.has(i)));
      }
  }
}
