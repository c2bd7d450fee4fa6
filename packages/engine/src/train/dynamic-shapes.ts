import type { ModelProto, ValueInfoProto } from '@mor/onnx';

type Shaped = { shape?: { dim: Array<{ value: { case?: string } }> } };
const tensorType = (v: ValueInfoProto) => v.type?.value.value as Shaped | undefined;

/**
 * Runs `encode` with the symbolic-dim input shapes (`batch_size`, `sequence_length`), the output shapes and the
 * graph's value_info taken out, then puts them back (our own passes read them; onnxruntime should not).
 *
 * Why: onnxruntime's allocation planner looks, for every value whose shape it can infer, through the list of
 * freed buffers for one of the same size — linear per value, so opening a train graph grows with the square of
 * its size (a 30-layer, 135M-parameter model: ~50 s on two cores, 16 layers: ~13 s). Without the symbolic input
 * shapes it infers no activation shapes and plans no static reuse — its arena still reuses freed memory at run
 * time — and the 16-layer graph opens in ~6 s. Kernels, step time and peak memory were unchanged
 * (`bench/train.mjs`, README). Fixed-size inputs (parameters, optimizer state) keep their shapes.
 */
export function withoutDynamicShapes<T>(model: ModelProto, encode: () => T): T {
  const graph = model.graph!;
  const saved: Array<[Shaped, Shaped['shape']]> = [];
  const drop = (v: ValueInfoProto, onlyDynamic: boolean) => {
    const t = tensorType(v);
    if (!t?.shape) return;
    if (onlyDynamic && !t.shape.dim.some((d) => d.value.case === 'dimParam')) return;
    saved.push([t, t.shape]);
    t.shape = undefined;
  };
  for (const v of graph.input) drop(v, true);
  for (const v of graph.output) drop(v, false);
  const valueInfo = graph.valueInfo;
  graph.valueInfo = [];
  try {
    return encode();
  } finally {
    for (const [t, shape] of saved) t.shape = shape;
    graph.valueInfo = valueInfo;
  }
}
