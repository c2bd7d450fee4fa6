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
import { NodeProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType } from 'onnx-buf';
import { NBITS_BLOCK_SIZE, quantizeDynamicWeight, quantizeNBits } from './quantize.js';

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

/** Options of {@link quantizeMatMulsDynamic}. */
export interface DynamicQuantizeOptions extends QuantizeModelOptions {
  /**
   * Weight type; default transformers.js' choice for q8: `uint8` when the graph has GroupQueryAttention or
   * MultiHeadAttention (onnxruntime-genai builder graphs), else `int8`.
   */
  weightType?: 'int8' | 'uint8';
  /** One scale and zero point per output column instead of per tensor (`quantize_dynamic(per_channel=True)`). */
  perChannel?: boolean;
  /**
   * Also quantize embedding tables read by `Gather` (axis 0, a 2-D float initializer), as transformers.js' q8 does
   * (Gather is in onnxruntime's IntegerOps registry): the table in the weight type per tensor, `Gather` of it into
   * `<out>_quantized`, then `DequantizeLinear` (`<out>_DequantizeLinear`) into the original output. Default true.
   */
  gathers?: boolean;
}

/**
 * Rewrites, in place, every `MatMul` of the main graph whose B is a 2-D float32 initializer into onnxruntime's
 * dynamic-quantization form, as `quantize_dynamic` (IntegerOps, `MatMulConstBOnly`) writes it and transformers.js
 * ships it as `model_quantized.onnx` (dtype q8): `DynamicQuantizeLinear(x)` once per activation (node
 * `<x>_QuantizeLinear`, outputs `<x>_quantized` / `_scale` / `_zero_point`), `MatMulInteger` (`<node>_quant`) by
 * `<W>_quantized` with `<W>_zero_point`, `Cast` to float, `Mul` by `<W>_scale · x_scale` (`<node>_quant_scales_mul`)
 * into the original output (`<node>_quant_output_scale_mul`). Weights by {@link quantizeDynamicWeight}. Embedding
 * tables too, as onnxruntime's GatherQuant does (`gathers`).
 *
 * @throws {GraphError} for a model without a graph.
 */
export function quantizeMatMulsDynamic(
  model: ModelProto,
  opts: DynamicQuantizeOptions = {},
): QuantizeModelReport {
  const g = model.graph;
  if (!g) throw new GraphError('the model has no graph', 'graph');
  const attention = g.node.some((n) => ['GroupQueryAttention', 'MultiHeadAttention'].includes(n.opType));
  const type = opts.weightType ?? (attention ? 'uint8' : 'int8');
  const dataType = type === 'int8' ? TensorProto_DataType.INT8 : TensorProto_DataType.UINT8;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const weights = new Map<string, [string, string, string]>();
  const activations = new Map<string, [string, string, string]>();
  const tables = new Map<string, [string, string, string]>(); // embedding tables read by Gather
  const report: QuantizeModelReport = { quantized: [], elements: 0 };
  const node = (opType: string, name: string, input: string[], output: string[], to?: number) =>
    create(NodeProtoSchema, {
      opType,
      name,
      input,
      output,
      attribute: to === undefined ? [] : [attribute('to', { int: to })],
    });
  const out: Node[] = [];
  const bytes = (a: Int8Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (const n of g.node) {
    const table = n.opType === 'Gather' && n.domain === '' ? inits.get(n.input[0] ?? '') : undefined;
    if (
      table &&
      (opts.gathers ?? true) &&
      table.dataType === TensorProto_DataType.FLOAT &&
      table.dims.length === 2 &&
      !n.attribute.some((a) => a.name === 'axis' && a.i !== 0n) &&
      !tables.has(table.name)
    ) {
      const [rows, width] = tensorDims(table) as [number, number];
      const d = quantizeDynamicWeight(tensorToFloat32(table), rows, width, type);
      const names: [string, string, string] = [
        `${table.name}_quantized`,
        `${table.name}_scale`,
        `${table.name}_zero_point`,
      ];
      g.initializer.push(
        rawTensor(names[0], [rows, width], bytes(d.q), dataType),
        floatTensor(names[1], [], d.scales),
        rawTensor(names[2], [], bytes(d.zeroPoints), dataType),
      );
      tables.set(table.name, names);
      report.elements += rows * width;
    }
    const tq = table && tables.get(table.name);
    if (tq) {
      const y = n.output[0]!;
      n.input[0] = tq[0];
      n.output[0] = `${y}_quantized`;
      out.push(n, node('DequantizeLinear', `${y}_DequantizeLinear`, [`${y}_quantized`, tq[1], tq[2]], [y]));
      report.quantized.push(n.name);
      continue;
    }
    const w = n.opType === 'MatMul' && n.domain === '' ? inits.get(n.input[1] ?? '') : undefined;
    if (
      !w ||
      w.dataType !== TensorProto_DataType.FLOAT ||
      w.dims.length !== 2 ||
      (opts.filter && !opts.filter(n, w.name))
    ) {
      out.push(n);
      continue;
    }
    const [k, cols] = tensorDims(w) as [number, number];
    let wq = weights.get(w.name);
    if (!wq) {
      const d = quantizeDynamicWeight(tensorToFloat32(w), k, cols, type, opts.perChannel ?? false);
      const dims = opts.perChannel ? [cols] : [];
      wq = [`${w.name}_quantized`, `${w.name}_scale`, `${w.name}_zero_point`];
      g.initializer.push(
        rawTensor(wq[0], [k, cols], bytes(d.q), dataType),
        floatTensor(wq[1], dims, d.scales),
        rawTensor(wq[2], dims, bytes(d.zeroPoints), dataType),
      );
      weights.set(w.name, wq);
      report.elements += k * cols;
    }
    const x = n.input[0]!;
    let xq = activations.get(x);
    if (!xq) {
      xq = [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`];
      out.push(node('DynamicQuantizeLinear', `${x}_QuantizeLinear`, [x], xq));
      activations.set(x, xq);
    }
    const y = n.output[0]!;
    const name = `${n.name}_quant`;
    const acc = `${y}_output_quantized`;
    const scales = `${name}_scales_mul:0`;
    out.push(
      node('MatMulInteger', name, [xq[0], wq[0], xq[2], wq[2]], [acc]),
      node('Cast', `${acc}_cast`, [acc], [`${acc}_cast_output`], TensorProto_DataType.FLOAT),
      node('Mul', `${name}_scales_mul`, [xq[1], wq[1]], [scales]),
      node('Mul', `${name}_output_scale_mul`, [`${acc}_cast_output`, scales], [y]),
    );
    report.quantized.push(name);
  }
  g.node = out;
  const used = new Set(g.node.flatMap((x) => x.input));
  for (const o of g.output) used.add(o.name);
  g.initializer = g.initializer.filter(
    (t) => !(weights.has(t.name) || tables.has(t.name)) || used.has(t.name),
  );
  return report;
}
