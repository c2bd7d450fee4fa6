import type { GraphProto, NodeProto, ValueInfoProto } from 'onnx-buf';
import { attrInt, attrInts, attrTensor } from './attributes.js';
import { inferShapes } from './shape-inference.js';

/** One dimension when known statically: a size, or a symbolic name (`batch_size`). */
export type StaticDim = number | string;

/**
 * What the graph tells statically about its tensors: declared shapes (inputs, outputs, value_info,
 * initializers, Constant nodes) and ranks propagated through common ops. Exports from TorchScript carry no
 * value_info, so rules must treat "unknown" as the normal case and fall back to runtime shape logic.
 */
export interface StaticInfo {
  /** Rank of a tensor, when it can be told without running the graph. */
  rank(name: string): number | undefined;
  /**
   * Shape of a tensor: declared, or inferred with symbolic dims (shape-inference.ts). Equal names mean equal
   * sizes; unknown dims have unique `?…` names.
   */
  shape(name: string): StaticDim[] | undefined;
  /**
   * Elements of a small int tensor (shape vectors, axes) when known: numbers or symbolic dims; also the value
   * of a constant float32 scalar.
   */
  intValues(name: string): StaticDim[] | undefined;
  /** Declared element type (TensorProto.DataType), when declared. */
  elemType(name: string): number | undefined;
}

const SAME_RANK = new Set([
  'Neg',
  'Sqrt',
  'Relu',
  'Exp',
  'Log',
  'Tanh',
  'Erf',
  'Sigmoid',
  'Reciprocal',
  'Softmax',
  'LogSoftmax',
  'Identity',
  'Cast',
  'CastLike',
  'Abs',
  'Dropout',
  'LayerNormalization',
  'SimplifiedLayerNormalization',
  'Gelu',
  'Split',
  'Slice',
  'Cos',
  'Sin',
  'Not',
  'IsNaN',
]);
const MAX_RANK = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Where',
  'Max',
  'Min',
  'Sum',
  'Equal',
  'Less',
  'Greater',
  'And',
  'Or',
]);

function declared(v: ValueInfoProto): { shape?: StaticDim[]; elem?: number } {
  if (v.type?.value.case !== 'tensorType') return {};
  const t = v.type.value.value;
  const shape = t.shape?.dim.map((d, i): StaticDim =>
    d.value.case === 'dimValue'
      ? Number(d.value.value)
      : d.value.case === 'dimParam'
        ? d.value.value
        : `?${v.name}#${i}`,
  );
  return { shape, elem: t.elemType };
}

/** Collects the static facts of `graph` (see {@link StaticInfo}). */
export function collectStaticInfo(graph: GraphProto): StaticInfo {
  const shapes = new Map<string, StaticDim[]>();
  const elems = new Map<string, number>();
  const ranks = new Map<string, number>();
  const lengths = new Map<string, number>(); // length of 1-D int tensors (shape vectors), for Reshape/Expand ranks
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) {
    const d = declared(v);
    if (d.shape) shapes.set(v.name, d.shape);
    if (d.elem !== undefined) elems.set(v.name, d.elem);
  }
  for (const t of graph.initializer) {
    shapes.set(t.name, t.dims.map(Number));
    elems.set(t.name, t.dataType);
  }
  const values = inferShapes(graph, shapes, elems);
  for (const [name, s] of shapes) {
    ranks.set(name, s.length);
    if (s.length === 1 && typeof s[0] === 'number') lengths.set(name, s[0]);
  }
  for (const node of graph.node) propagate(node, ranks, lengths, shapes, elems);
  return {
    rank: (n) => ranks.get(n),
    shape: (n) => shapes.get(n),
    intValues: (n) => values.get(n),
    elemType: (n) => elems.get(n),
  };
}

function propagate(
  node: NodeProto,
  ranks: Map<string, number>,
  lengths: Map<string, number>,
  shapes: Map<string, StaticDim[]>,
  elems: Map<string, number>,
): void {
  const r = (i: number) => (node.input[i] ? ranks.get(node.input[i]!) : undefined);
  const len = (i: number) => (node.input[i] ? lengths.get(node.input[i]!) : undefined);
  const out = node.output[0];
  if (out === undefined || ranks.has(out)) return;
  const set = (rank: number | undefined) => {
    if (rank !== undefined) for (const o of node.output) if (o) ranks.set(o, rank);
  };
  const op = node.opType;
  if (op === 'Constant') {
    const t = attrTensor(node, 'value');
    if (t) {
      shapes.set(out, t.dims.map(Number));
      elems.set(out, t.dataType);
      ranks.set(out, t.dims.length);
      if (t.dims.length === 1) lengths.set(out, Number(t.dims[0]));
    }
  } else if (SAME_RANK.has(op)) set(r(0));
  else if (MAX_RANK.has(op)) {
    const rs = node.input.map((_, i) => r(i));
    if (rs.every((x) => x !== undefined)) set(Math.max(...(rs as number[])));
  } else if (op === 'MatMul') {
    const [a, b] = [r(0), r(1)];
    if (a !== undefined && b !== undefined)
      set(a === 1 && b === 1 ? 0 : a === 1 ? b - 1 : b === 1 ? a - 1 : Math.max(a, b));
  } else if (op === 'Transpose') set(attrInts(node, 'perm')?.length ?? r(0));
  else if (op === 'Gemm' || op === 'Flatten') set(2);
  else if (op === 'Gather') {
    const [a, b] = [r(0), r(1)];
    if (a !== undefined && b !== undefined) set(a + b - 1);
  } else if (op === 'GatherElements') set(r(1));
  else if (op === 'Reshape') set(len(1));
  else if (op === 'Expand') {
    const [a, b] = [r(0), len(1)];
    if (a !== undefined && b !== undefined) set(Math.max(a, b));
  } else if (op === 'Unsqueeze' || op === 'Squeeze') {
    const a = r(0);
    const n = node.input[1] ? len(1) : attrInts(node, 'axes')?.length;
    if (a !== undefined && n !== undefined) set(op === 'Unsqueeze' ? a + n : a - n);
    if (op === 'Unsqueeze' && a === 0 && n === 1) lengths.set(out, 1);
  } else if (op === 'Shape') {
    ranks.set(out, 1);
    const a = r(0);
    if (a !== undefined && !node.attribute.length) lengths.set(out, a);
  } else if (op === 'Size') ranks.set(out, 0);
  else if (op === 'Concat') {
    set(r(0));
    const ls = node.input.map((_, i) => len(i));
    if (r(0) === 1 && ls.every((x) => x !== undefined))
      lengths.set(
        out,
        (ls as number[]).reduce((s, x) => s + x, 0),
      );
  } else if (op.startsWith('Reduce') && attrInt(node, 'keepdims', 1) === 1) set(r(0));
}
