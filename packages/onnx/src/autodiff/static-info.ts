import type { GraphProto, ValueInfoProto } from 'onnx-buf';
import { inferShapes, type StaticDim } from './shape-inference.js';

export type { StaticDim } from './shape-inference.js';

/**
 * What the graph tells statically about its tensors: declared shapes (inputs, outputs, value_info,
 * initializers) and the shapes inferred from them (shape-inference.ts). Exports from TorchScript carry no
 * value_info, so rules must treat "unknown" as the normal case and fall back to runtime shape logic.
 */
export interface StaticInfo {
  /** Rank of a tensor (the length of its shape), when it can be told without running the graph. */
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
  /** Element type (TensorProto.DataType): declared, or inferred from the inputs (elem-types.ts). */
  elemType(name: string): number | undefined;
  /** The tensor is an initializer: a constant (a frozen weight, once the trainable ones are graph inputs). */
  isInitializer(name: string): boolean;
}

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
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) {
    const d = declared(v);
    if (d.shape) shapes.set(v.name, d.shape);
    if (d.elem !== undefined) elems.set(v.name, d.elem);
  }
  const initializers = new Set<string>();
  for (const t of graph.initializer) {
    initializers.add(t.name);
    shapes.set(t.name, t.dims.map(Number));
    elems.set(t.name, t.dataType);
  }
  const values = inferShapes(graph, shapes, elems);
  return {
    rank: (n) => shapes.get(n)?.length,
    shape: (n) => shapes.get(n),
    intValues: (n) => values.get(n),
    elemType: (n) => elems.get(n),
    isInitializer: (n) => initializers.has(n),
  };
}
