import { GraphError, attribute, floatTensor, tensorDims, tensorToFloat32, type ModelProto } from '@mor/onnx';
import { TensorProto_DataType as DataType, type AttributeProto, type TensorProto } from 'onnx-buf';

/** float16's largest finite value: float32 constants beyond it (the mask's float32 min) are clamped to it. */
export const FLOAT16_MAX = 65504;

/** What {@link convertFloatType} changed. */
export interface FloatTypeReport {
  /** Initializers (weights, scales, float constants) re-typed. */
  initializers: number;
  /** `Constant` / `ConstantOfShape` values re-typed. */
  constants: number;
  /** `Cast` nodes whose target type changed. */
  casts: number;
  /** Graph inputs, outputs and value_info entries re-typed (`past_key_values.*`, `logits`, `present.*`). */
  io: number;
}

const TYPES = { float16: DataType.FLOAT16, float32: DataType.FLOAT } as const;

/**
 * Re-types every float tensor of the main graph, in place, between float32 and float16: initializers (weights,
 * norm gains, MatMulNBits / GatherBlockQuantized scales), `Constant` and `ConstantOfShape` values, `Cast(to)`
 * targets, and the declared graph inputs/outputs/value_info — so that all activations run in the new type, as
 * transformers.js' `model_fp16.onnx` files do (their `past_key_values.*` inputs are float16 and transformers.js
 * feeds them in the type the session declares). To float16 values round to nearest even and are clamped to
 * ±{@link FLOAT16_MAX} (the attention mask's float32 min would otherwise become −inf, and `0 · −inf` is NaN);
 * back to float32 is exact, so `convertFloatType(convertFloatType(m, 'float16'), 'float32')` is the float32
 * twin with the float16-rounded weights the acceptance tests compare against. Integer tensors are untouched.
 *
 * @throws {GraphError} for a model without a graph, or one with subgraphs (If/Loop bodies are not converted).
 */
export function convertFloatType(model: ModelProto, to: keyof typeof TYPES): FloatTypeReport {
  const g = model.graph;
  if (!g) throw new GraphError('the model has no graph', 'graph');
  const target = TYPES[to];
  const source = to === 'float16' ? DataType.FLOAT : DataType.FLOAT16;
  const report: FloatTypeReport = { initializers: 0, constants: 0, casts: 0, io: 0 };
  const retype = (t: TensorProto): TensorProto => {
    const values = tensorToFloat32(t);
    if (target === DataType.FLOAT16)
      for (let i = 0; i < values.length; i++)
        values[i] = Math.max(-FLOAT16_MAX, Math.min(FLOAT16_MAX, values[i]!));
    return floatTensor(t.name, tensorDims(t), values, target);
  };
  g.initializer = g.initializer.map((t) => {
    if (t.dataType !== source) return t;
    report.initializers++;
    return retype(t);
  });
  for (const node of g.node) {
    if (node.attribute.some((a) => a.g || a.graphs.length > 0))
      throw new GraphError(`node ${node.name} (${node.opType}) has a subgraph; not converted`, node.name);
    if (node.domain === '' && node.opType === 'Cast') {
      const a = node.attribute.find((x) => x.name === 'to');
      if (a && Number(a.i) === source) {
        a.i = BigInt(target);
        report.casts++;
      }
    }
    if (node.domain === '' && (node.opType === 'Constant' || node.opType === 'ConstantOfShape')) {
      const a: AttributeProto | undefined = node.attribute.find((x) => x.name === 'value');
      if (a?.t && a.t.dataType === source) {
        a.t = retype(a.t);
        report.constants++;
      } else if (!a && node.opType === 'ConstantOfShape' && target === DataType.FLOAT16) {
        // Without a value ConstantOfShape gives float32 zeros: make them float16 zeros.
        node.attribute.push(attribute('value', { tensor: floatTensor('value', [1], [0], target) }));
        report.constants++;
      }
    }
  }
  for (const v of [...g.input, ...g.output, ...g.valueInfo]) {
    const tt = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
    if (tt && tt.elemType === source) {
      tt.elemType = target;
      report.io++;
    }
  }
  return report;
}
