import { TensorProto_DataType, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { floatAttr, intAttr, intsAttr } from '../graph/attributes.js';
import { GraphIndex, modelGraph, opKey } from '../graph/graph-index.js';
import { tensorDims, tensorToInts } from '../graph/tensor-data.js';
import type { LinearLayer } from './linear-layer.js';
import { modulePathFromInitializer, modulePathFromNodeName } from './module-path.js';

interface WeightRef {
  tensor: TensorProto;
  transpose?: NodeProto;
}

/** A constant 2-D weight read directly or through a 2-D Transpose (perm [1,0]). */
function constantWeight(index: GraphIndex, value: string): WeightRef | undefined {
  const direct = index.constantTensor(value);
  if (direct) return direct.dims.length === 2 ? { tensor: direct } : undefined;
  const tr = index.producers.get(value);
  if (!tr || opKey(tr) !== ':Transpose') return undefined;
  const perm = intsAttr(tr, 'perm');
  if (perm !== undefined && !(perm[0] === 1 && perm[1] === 0)) return undefined;
  const t = index.constantTensor(tr.input[0]!);
  return t && t.dims.length === 2 ? { tensor: t, transpose: tr } : undefined;
}

function dtypeOf(t: TensorProto | undefined): 'float32' | 'float16' {
  return t?.dataType === TensorProto_DataType.FLOAT16 ? 'float16' : 'float32';
}

/** The number of nodes (plus graph outputs) reading a value. */
function readers(index: GraphIndex, value: string): number {
  return index.consumersOf(value).length + (index.graphOutputs.has(value) ? 1 : 0);
}

function isShared(index: GraphIndex, w: WeightRef, self: NodeProto): boolean {
  const users = index.consumersOf(w.tensor.name).filter((n) => n !== (w.transpose ?? self));
  return users.length > 0 || (w.transpose !== undefined && readers(index, w.transpose.output[0]!) > 1);
}

/** A constant `[d_out]` bias added by the only reader of `value`. */
function biasAddAfter(index: GraphIndex, value: string, dOut: number): NodeProto | undefined {
  const users = index.consumersOf(value);
  if (users.length !== 1 || index.graphOutputs.has(value)) return undefined;
  const add = users[0]!;
  if (opKey(add) !== ':Add') return undefined;
  const other = add.input[0] === value ? add.input[1] : add.input[0];
  const t = other === undefined ? undefined : index.constantTensor(other);
  return t && t.dims.length === 1 && Number(t.dims[0]) === dOut ? add : undefined;
}

function pathOf(node: NodeProto, weight: string): string {
  return (
    modulePathFromNodeName(node.name) ?? modulePathFromInitializer(weight) ?? (node.name || node.output[0]!)
  );
}

function floatLayer(index: GraphIndex, node: NodeProto): LinearLayer | undefined {
  const w = constantWeight(index, node.input[1]!);
  if (!w) return undefined;
  const [rows, cols] = tensorDims(w.tensor) as [number, number];
  // The stored initializer is [d_out, d_in] when it is transposed an odd number of times on its way in.
  let transposed = w.transpose !== undefined;
  let alpha = 1;
  if (node.opType === 'Gemm') {
    if (intAttr(node, 'transA', 0) !== 0) return undefined;
    if (intAttr(node, 'transB', 0) !== 0) transposed = !transposed;
    alpha = floatAttr(node, 'alpha', 1);
  }
  const dIn = transposed ? cols : rows;
  const dOut = transposed ? rows : cols;
  const output = node.output[0]!;
  const bias = node.opType === 'MatMul' ? biasAddAfter(index, output, dOut) : undefined;
  const nodes = [node.name, ...(w.transpose ? [w.transpose.name] : []), ...(bias ? [bias.name] : [])];
  return {
    modulePath: pathOf(node, w.tensor.name),
    kind: node.opType === 'Gemm' ? 'gemm' : 'matmul',
    dIn,
    dOut,
    input: node.input[0]!,
    output,
    outputNode: node.name,
    nodes,
    weight: w.tensor.name,
    weightLayout: transposed ? '[d_out,d_in]' : '[d_in,d_out]',
    ...(w.transpose ? { weightTranspose: w.transpose.name } : {}),
    ...(bias ? { biasAdd: bias.name } : {}),
    shared: isShared(index, w, node),
    quantized: false,
    dtype: dtypeOf(w.tensor),
    alpha,
  };
}

function nbitsLayer(index: GraphIndex, node: NodeProto): LinearLayer {
  const weight = node.input[1]!;
  return {
    modulePath: pathOf(node, weight),
    kind: 'matmul-nbits',
    dIn: intAttr(node, 'K', 0),
    dOut: intAttr(node, 'N', 0),
    input: node.input[0]!,
    output: node.output[0]!,
    outputNode: node.name,
    nodes: [node.name],
    weight,
    weightLayout: 'quantized',
    shared: index.consumersOf(weight).length > 1,
    quantized: true,
    dtype: dtypeOf(index.constantTensor(node.input[2] ?? '')),
    alpha: 1,
  };
}

function integerLayer(index: GraphIndex, node: NodeProto): LinearLayer | undefined {
  const dql = index.producers.get(node.input[0]!);
  const w = index.constantTensor(node.input[1]!);
  if (dql?.opType !== 'DynamicQuantizeLinear' || !w || w.dims.length !== 2) return undefined;
  // Follow the dequantization chain (Cast to float, Mul by the scales) to the float output.
  let last = node;
  const nodes = [dql.name, node.name];
  for (;;) {
    const users = index.consumersOf(last.output[0]!);
    if (users.length !== 1 || index.graphOutputs.has(last.output[0]!)) break;
    const next = users[0]!;
    if (opKey(next) !== ':Cast' && opKey(next) !== ':Mul') break;
    last = next;
    nodes.push(next.name);
  }
  if (last === node) return undefined;
  const [dIn, dOut] = tensorDims(w) as [number, number];
  return {
    modulePath: pathOf(node, w.name),
    kind: 'matmul-integer',
    dIn,
    dOut,
    input: dql.input[0]!,
    output: last.output[0]!,
    outputNode: last.name,
    nodes,
    weight: w.name,
    weightLayout: 'quantized',
    shared: index.consumersOf(w.name).length > 1,
    quantized: true,
    dtype: 'float32',
    alpha: 1,
  };
}

/** The column sizes of q, k and v when `layer`'s output (after its bias) is read as packed QKV; else undefined. */
function packedQkvSizes(index: GraphIndex, layer: LinearLayer): [number, number, number] | undefined {
  // Past the bias Add (a float layer's own, or the Add after a MatMulNBits).
  const value = biasAddAfter(index, layer.output, layer.dOut)?.output[0] ?? layer.output;
  const users = index.consumersOf(value);
  if (users.length !== 1 || index.graphOutputs.has(value)) return undefined;
  const user = users[0]!;
  const key = opKey(user);
  if (key === 'com.microsoft:GroupQueryAttention' && user.input[0] === value && !user.input[1]) {
    const heads = intAttr(user, 'num_heads', 0);
    const kvHeads = intAttr(user, 'kv_num_heads', 0);
    const headSize = layer.dOut / (heads + 2 * kvHeads);
    if (!(heads > 0 && kvHeads > 0 && Number.isInteger(headSize))) return undefined;
    return [heads * headSize, kvHeads * headSize, kvHeads * headSize];
  }
  if (key === ':Split' && user.output.length === 3) {
    const axis = intAttr(user, 'axis', 0);
    const sizes = user.input[1] ? index.constantTensor(user.input[1]) : undefined;
    const s = sizes ? tensorToInts(sizes) : undefined;
    if ((axis === -1 || axis === 2) && s?.length === 3 && s[0]! + s[1]! + s[2]! === layer.dOut)
      return s as [number, number, number];
  }
  return undefined;
}

const PACKED_QKV_PARTS = ['q_proj', 'k_proj', 'v_proj'] as const;

/**
 * onnxruntime-genai's packed `…attn.qkv_proj` (one MatMul for q, k and v; `use_packed_matmul` in its builder):
 * the three projections Hugging Face has, as {@link LinearLayer}s with a `part`, so adapters trained on the
 * Hugging Face model (`self_attn.q_proj`) apply to it. The packed layer itself stays a layer too (`qkv_proj`, as
 * Phi-3 names its own fused module).
 */
function packedParts(index: GraphIndex, layer: LinearLayer): LinearLayer[] {
  if (!layer.modulePath.endsWith('.qkv_proj')) return [];
  const sizes = packedQkvSizes(index, layer);
  if (!sizes) return [];
  const stem = layer.modulePath.slice(0, -'qkv_proj'.length);
  let offset = 0;
  return PACKED_QKV_PARTS.map((name, i) => {
    const part = { packed: layer.modulePath, offset, packedDOut: layer.dOut };
    offset += sizes[i]!;
    return { ...layer, modulePath: stem + name, dOut: sizes[i]!, part };
  });
}

/**
 * Finds the linear layers of a model's main graph: MatMul/Gemm with a constant weight (direct, via a Transpose,
 * possibly shared, possibly followed by a bias Add), com.microsoft MatMulNBits, and dynamically quantized
 * MatMulInteger; a packed q/k/v projection also as its three parts ({@link packedParts}). MatMuls between two
 * activations (attention scores, rotary tables) are not layers.
 */
export function findLinearLayers(model: ModelProto): LinearLayer[] {
  const index = new GraphIndex(modelGraph(model));
  const layers: LinearLayer[] = [];
  for (const node of index.graph.node) {
    const key = opKey(node);
    let layer: LinearLayer | undefined;
    if (key === ':MatMul' || key === ':Gemm') layer = floatLayer(index, node);
    else if (key === 'com.microsoft:MatMulNBits') layer = nbitsLayer(index, node);
    else if (key === ':MatMulInteger') layer = integerLayer(index, node);
    if (layer) layers.push(layer, ...packedParts(index, layer));
  }
  return layers;
}
