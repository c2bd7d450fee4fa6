import { create } from '@bufbuild/protobuf';
import {
  GraphError,
  attribute,
  floatTensor,
  rawTensor,
  tensorDims,
  tensorToFloat32,
  type ModelProto,
} from '@mor/onnx';
import { OperatorSetIdProtoSchema, TensorProto_DataType } from 'onnx-buf';
import { NBITS_BLOCK_SIZE, quantizeNBits } from './quantize.js';

type Node = NonNullable<ModelProto['graph']>['node'][number];

/** Options of {@link quantizeMatMulsNBits}. */
export interface QuantizeModelOptions {
  /** Quantize this MatMul (by its node and its weight initializer's name)? Default: every one with a constant B. */
  filter?: (node: Node, weightName: string) => boolean;
}

/** What {@link quantizeMatMulsNBits} changed. */
export interface QuantizeModelReport {
  /** Node names of the MatMuls now MatMulNBits. */
  quantized: string[];
  /** Weights (elements) that are now 4-bit. */
  elements: number;
}

/**
 * Rewrites, in place, every `MatMul` of the main graph whose B is a 2-D float32 or float16 initializer `[K, N]` into a
 * com.microsoft `MatMulNBits` (4 bits, block 32, asymmetric with zero points: what onnxruntime's
 * `MatMul4BitsQuantizer` writes and what transformers.js loads as `dtype: 'q4'`; a float16 graph (convertFloatType)
 * gets float16 scales: `dtype: 'q4f16'`), using {@link quantizeNBits}, the
 * quantizer the builder's `quantize: 'matmulnbits'` test models use. Node `…/MatMul` becomes `…/MatMul_Q4` (the
 * quantizer's naming, which module-path matching reads), same inputs A and output; the float weight is dropped
 * when nothing else reads it. A weight shared by several MatMuls is quantized once.
 *
 * @throws {GraphError} for a model without a graph.
 */
export function quantizeMatMulsNBits(
  model: ModelProto,
  opts: QuantizeModelOptions = {},
): QuantizeModelReport {
  const g = model.graph;
  if (!g) throw new GraphError('the model has no graph', 'graph');
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const done = new Map<string, [string, string, string]>();
  const report: QuantizeModelReport = { quantized: [], elements: 0 };
  for (const node of g.node) {
    if (node.opType !== 'MatMul' || node.domain !== '') continue;
    const w = inits.get(node.input[1] ?? '');
    const float = w?.dataType === TensorProto_DataType.FLOAT || w?.dataType === TensorProto_DataType.FLOAT16;
    if (!w || !float || w.dims.length !== 2) continue;
    if (opts.filter && !opts.filter(node, w.name)) continue;
    const [k, n] = tensorDims(w) as [number, number];
    let names = done.get(w.name);
    if (!names) {
      const q = quantizeNBits(tensorToFloat32(w), k, n);
      names = [`${w.name}_Q4`, `${w.name}_scales`, `${w.name}_zero_points`];
      g.initializer.push(
        rawTensor(names[0], [n, q.nBlocks, NBITS_BLOCK_SIZE / 2], q.packed, TensorProto_DataType.UINT8),
        // Scales in the weight's type: a float16 graph gets q4f16's float16 scales (its activations stay float16).
        floatTensor(names[1], [n * q.nBlocks], q.scales, w.dataType),
        rawTensor(names[2], [q.zeroPoints.length], q.zeroPoints, TensorProto_DataType.UINT8),
      );
      done.set(w.name, names);
      report.elements += k * n;
    }
    Object.assign(node, {
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      name: `${node.name}_Q4`,
      input: [node.input[0]!, ...names],
      attribute: [
        attribute('K', { int: k }),
        attribute('N', { int: n }),
        attribute('bits', { int: 4 }),
        attribute('block_size', { int: NBITS_BLOCK_SIZE }),
      ],
    });
    report.quantized.push(node.name);
  }
  const used = new Set(g.node.flatMap((x) => x.input));
  for (const o of g.output) used.add(o.name);
  g.initializer = g.initializer.filter((t) => !done.has(t.name) || used.has(t.name));
  if (report.quantized.length > 0 && !model.opsetImport.some((o) => o.domain === 'com.microsoft'))
    model.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
  return report;
}
