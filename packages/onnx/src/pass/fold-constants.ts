import type { GraphProto, NodeProto, TensorProto } from 'onnx-buf';
import { intAttr, intsAttr } from '../graph/attributes.js';
import { floatTensor, isFloatType, tensorDims, tensorToFloat32, tensorToInts } from '../graph/tensor-data.js';
import type { UniqueNames } from '../graph/unique-names.js';

/** A constant during folding: float data is kept in float64 and rounded once, when it becomes an initializer. */
export interface FoldValue {
  dims: number[];
  data: Float64Array;
}

type Evaluate = (node: NodeProto, inputs: FoldValue[]) => FoldValue | null;

const size = (dims: readonly number[]) => dims.reduce((a, d) => a * d, 1);

/** Numpy broadcasting of an elementwise binary op. */
function broadcast(a: FoldValue, b: FoldValue, f: (x: number, y: number) => number): FoldValue {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const [da, db] = [pad(a.dims), pad(b.dims)];
  const dims = da.map((d, i) => Math.max(d, db[i]!));
  const strides = (d: number[]) => {
    const s = new Array<number>(rank).fill(0);
    for (let i = rank - 1, acc = 1; i >= 0; acc *= d[i]!, i--) s[i] = d[i] === 1 ? 0 : acc;
    return s;
  };
  const [sa, sb] = [strides(da), strides(db)];
  const data = new Float64Array(size(dims));
  for (let o = 0; o < data.length; o++) {
    let [ia, ib, rest] = [0, 0, o];
    for (let i = rank - 1; i >= 0; i--) {
      const c = rest % dims[i]!;
      rest = Math.floor(rest / dims[i]!);
      ia += c * sa[i]!;
      ib += c * sb[i]!;
    }
    data[o] = f(a.data[ia]!, b.data[ib]!);
  }
  return { dims, data };
}

/** The few ops the parameter-only part of an adapter branch uses; anything else is left in the graph. */
const EVALUATE: Record<string, Evaluate> = {
  Mul: (_, [a, b]) => broadcast(a!, b!, (x, y) => x * y),
  Add: (_, [a, b]) => broadcast(a!, b!, (x, y) => x + y),
  MatMul: (_, [a, b]) => {
    if (b!.dims.length !== 2 || a!.dims.length > 2) return null;
    const [k, n] = b!.dims as [number, number];
    const m = a!.dims.length === 2 ? a!.dims[0]! : 1;
    if (a!.dims[a!.dims.length - 1] !== k) return null;
    const data = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += a!.data[i * k + c]! * b!.data[c * n + j]!;
        data[i * n + j] = s;
      }
    return { dims: a!.dims.length === 2 ? [m, n] : [n], data };
  },
  Transpose: (node, [a]) => {
    const rank = a!.dims.length;
    const perm = intsAttr(node, 'perm') ?? a!.dims.map((_, i) => rank - 1 - i);
    const dims = perm.map((p) => a!.dims[p]!);
    const inStrides = a!.dims.map((_, i) => size(a!.dims.slice(i + 1)));
    const data = new Float64Array(a!.data.length);
    const at = new Array<number>(rank).fill(0); // output index, odometer order
    for (let o = 0; o < data.length; o++) {
      let from = 0;
      for (let i = 0; i < rank; i++) from += at[i]! * inStrides[perm[i]!]!;
      data[o] = a!.data[from]!;
      for (let i = rank - 1; i >= 0; i--) {
        at[i] = at[i]! + 1;
        if (at[i] !== dims[i]) break;
        at[i] = 0;
      }
    }
    return { dims, data };
  },
  Concat: (node, parts) => {
    const axis = intAttr(node, 'axis', 0);
    if (axis !== 0 || parts.some((p) => p.dims.length !== parts[0]!.dims.length)) return null;
    const dims = [parts.reduce((a, p) => a + p.dims[0]!, 0), ...parts[0]!.dims.slice(1)];
    const data = new Float64Array(size(dims));
    let at = 0;
    for (const p of parts) data.set(p.data, (at += p.data.length) - p.data.length);
    return { dims, data };
  },
  Reshape: (_, [a, shape]) => {
    const dims = Array.from(shape!.data);
    const known = size(dims.filter((d) => d !== -1));
    if (dims.includes(0)) return null;
    const full = dims.map((d) => (d === -1 ? a!.data.length / known : d));
    return size(full) === a!.data.length ? { dims: full, data: a!.data } : null;
  },
};

function valueOf(t: TensorProto): FoldValue {
  const data = isFloatType(t.dataType) ? tensorToFloat32(t) : tensorToInts(t);
  return { dims: tensorDims(t), data: Float64Array.from(data) };
}

/**
 * Constant folding over the nodes one pass emitted (in emission order): every node whose inputs are all constants
 * — `values` (parameters not placed in the graph) or the graph's initializers that pass added (`added`) — of an op
 * in the table above is evaluated (float64, like the references in @mor/core) and removed. The constants the
 * remaining nodes read become float32 initializers; those named in `labels` (value → name base) get that name and
 * are returned, initializers of `added` nobody reads any more are dropped. Exact up to one rounding per constant.
 */
export function foldConstants(
  graph: GraphProto,
  nodes: readonly NodeProto[],
  options: {
    values: ReadonlyMap<string, FoldValue>;
    added: readonly TensorProto[];
    labels: ReadonlyMap<string, string>;
    names: UniqueNames;
  },
): Map<string, FoldValue> {
  const known = new Map(options.values);
  const added = new Map(options.added.map((t) => [t.name, t]));
  const lookup = (name: string): FoldValue | undefined => {
    if (!known.has(name) && added.has(name)) known.set(name, valueOf(added.get(name)!));
    return known.get(name);
  };
  const folded = new Set<NodeProto>();
  for (const node of nodes) {
    const evaluate = EVALUATE[node.opType];
    if (!evaluate || node.domain || node.output.length !== 1) continue;
    const inputs = node.input.map(lookup);
    if (inputs.some((v) => v === undefined)) continue;
    const out = evaluate(node, inputs as FoldValue[]);
    if (!out) continue;
    known.set(node.output[0]!, out);
    folded.add(node);
  }
  graph.node = graph.node.filter((n) => !folded.has(n));
  // The constants the rest reads: labelled ones get their name, the others stay (or become) initializers.
  const result = new Map<string, FoldValue>();
  const renamed = new Map<string, string>();
  for (const node of nodes) {
    if (folded.has(node)) continue;
    node.input.forEach((input, i) => {
      const value = known.get(input);
      if (!value) return;
      let name = renamed.get(input);
      if (name === undefined) {
        const label = options.labels.get(input);
        name = label ? options.names.take(label) : input;
        renamed.set(input, name);
        if (label || !added.has(input))
          graph.initializer.push(floatTensor(name, value.dims, Float32Array.from(value.data)));
        if (label) result.set(name, value);
      }
      node.input[i] = name;
    });
  }
  const read = new Set(nodes.filter((n) => !folded.has(n)).flatMap((n) => n.input));
  graph.initializer = graph.initializer.filter((t) => !added.has(t.name) || read.has(t.name));
  return result;
}
