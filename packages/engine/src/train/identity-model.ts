import {
  DEFAULT_OPSET,
  DataType,
  GraphBuilder,
  encodeModelBytes,
  tensorValueInfo,
  type GraphProto,
  type ModelProto,
} from '@mor/onnx';

/** Output name under which {@link encodeIdentityModel} returns input `name`. */
export const copiedName = (name: string) => `${name}.copy`;

/**
 * A model of `Identity` nodes only, one per float tensor, with the opset and IR version of `template`. Run on
 * the training device with CPU outputs, it brings GPU-resident parameters or optimizer state back to the host
 * (onnxruntime-node offers no other way to read a `gpu-buffer` tensor).
 */
export function encodeIdentityModel(
  template: ModelProto,
  tensors: ReadonlyMap<string, number[]>,
): Uint8Array {
  const graph: GraphProto = {
    ...template.graph!,
    name: 'download',
    node: [],
    initializer: [],
    sparseInitializer: [],
    quantizationAnnotation: [],
    valueInfo: [],
    input: [],
    output: [],
  };
  const b = new GraphBuilder(graph, { scope: '/copy', opset: DEFAULT_OPSET });
  for (const [name, dims] of tensors) {
    graph.input.push(tensorValueInfo(name, DataType.FLOAT, dims));
    graph.output.push(tensorValueInfo(copiedName(name), DataType.FLOAT, dims));
    b.op1('Identity', [name], {}, copiedName(name));
  }
  return encodeModelBytes({ ...template, graph, metadataProps: [], functions: [] });
}
