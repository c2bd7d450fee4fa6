import type { GraphProto, ModelProto, TensorProto } from 'onnx-buf';

/** Every TensorProto that can hold weight data: initializers, Constant/attribute tensors, sparse parts, subgraphs. */
export function* modelTensors(model: ModelProto): Generator<TensorProto> {
  if (model.graph) yield* graphTensors(model.graph);
  for (const f of model.functions) {
    for (const n of f.node) {
      for (const a of n.attribute) {
        if (a.t) yield a.t;
        yield* a.tensors;
        for (const g of [...(a.g ? [a.g] : []), ...a.graphs]) yield* graphTensors(g);
      }
    }
  }
}

function* graphTensors(graph: GraphProto): Generator<TensorProto> {
  yield* graph.initializer;
  for (const s of graph.sparseInitializer) {
    if (s.values) yield s.values;
    if (s.indices) yield s.indices;
  }
  for (const n of graph.node) {
    for (const a of n.attribute) {
      if (a.t) yield a.t;
      yield* a.tensors;
      for (const g of [...(a.g ? [a.g] : []), ...a.graphs]) yield* graphTensors(g);
    }
  }
}

/** The `external_data` entries of a tensor as a record (`location`, `offset`, `length`, `checksum`). */
export function externalDataInfo(t: TensorProto): Record<string, string> {
  const info: Record<string, string> = {};
  for (const e of t.externalData) info[e.key] = e.value;
  return info;
}
