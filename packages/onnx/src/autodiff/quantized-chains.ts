import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProto_DataType as DataType, type GraphProto, type NodeProto } from 'onnx-buf';
import { intAttr } from '../graph/attributes.js';

/**
 * The walker's view of onnxruntime's dynamic-quantization chains (what `quantize_dynamic` and transformers.js'
 * q8/int8/uint8 files contain): `DynamicQuantizeLinear(x) → MatMulInteger(x_q, B, x_zp, B_zp) → Cast(float) →
 * Mul(·, Mul(x_scale, B_scale))` is one linear layer, exactly what com.microsoft `DynamicQuantizeMatMul` computes
 * (onnxruntime fuses the chain into it at session creation). The chain's nodes one at a time have no useful
 * gradient (the rounding's is zero, the integer ones have none), so the walker sees each chain as one
 * `DynamicQuantizeMatMul(x, B, B_scale, B_zp)` node at the position of its last Mul, which has a straight-through
 * rule (quantized-grads.ts). The graph itself is not changed: the forward keeps its integer kernels.
 *
 * The DynamicQuantizeLinear and the scales Mul stay in the list; once every chain reading them is viewed as one
 * node, nothing on the path to the loss reads their outputs, and the walker skips them. A MatMulInteger that is
 * not in this form stays as it is, and the walker names it (no gradient rule).
 */
export function viewDynamicQuantizedChains(graph: GraphProto, nodes: readonly NodeProto[]): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) {
    for (const o of n.output) if (o) producer.set(o, n);
    for (const i of n.input) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const outputs = new Set(graph.output.map((o) => o.name));
  const constants = new Set(graph.initializer.map((t) => t.name));
  for (const n of nodes) if (n.opType === 'Constant' && n.output[0]) constants.add(n.output[0]);
  /** The one consumer of `t` when it is `opType` (ai.onnx) and `t` is not a graph output. */
  const soleUser = (t: string, opType: string) => {
    const users = consumers.get(t) ?? [];
    return users.length === 1 && users[0]!.opType === opType && !users[0]!.domain && !outputs.has(t)
      ? users[0]!
      : undefined;
  };

  const replaced = new Map<NodeProto, NodeProto | null>(); // chain node → its view (at the last Mul) or dropped
  for (const m of nodes) {
    if (m.opType !== 'MatMulInteger' || m.domain) continue;
    const dql = producer.get(m.input[0]!);
    if (dql?.opType !== 'DynamicQuantizeLinear' || dql.domain || dql.output[0] !== m.input[0]) continue;
    if (!dql.output[2] || (m.input[2] ?? '') !== dql.output[2]) continue; // x's own zero point
    const cast = soleUser(m.output[0]!, 'Cast');
    if (!cast || intAttr(cast, 'to', 0) !== DataType.FLOAT) continue;
    const mul = soleUser(cast.output[0]!, 'Mul');
    if (!mul) continue;
    const scales = producer.get(mul.input[mul.input[0] === cast.output[0] ? 1 : 0]!);
    if (scales?.opType !== 'Mul' || scales.domain || !dql.output[1]) continue;
    const k = scales.input.indexOf(dql.output[1]);
    const weightScale = scales.input[1 - k];
    if (k < 0 || !weightScale || !constants.has(weightScale)) continue;
    const zeroPoint = m.input[3] ?? '';
    const view = create(NodeProtoSchema, {
      opType: 'DynamicQuantizeMatMul',
      domain: 'com.microsoft',
      name: m.name || mul.name,
      input: [dql.input[0]!, m.input[1]!, weightScale, ...(zeroPoint ? [zeroPoint] : [])],
      output: [mul.output[0]!],
    });
    replaced.set(m, null).set(cast, null).set(mul, view);
  }
  if (replaced.size === 0) return [...nodes];
  return nodes.flatMap((n) => {
    const r = replaced.get(n);
    return r === undefined ? [n] : r === null ? [] : [r];
  });
}
