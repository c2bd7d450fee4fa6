import { TensorProto_DataType as DataType, type NodeProto } from 'onnx-buf';
import { opKey } from '../graph/graph-index.js';
import { isFloatType } from '../graph/tensor-data.js';

// Element types of the tensors exports leave undeclared, so rules and decompositions on a float16 graph emit
// float16 constants and cast gradients back to float16 (TorchScript exports declare only graph inputs/outputs).

const INT64_OUT = new Set([':Shape', ':Size', ':NonZero', ':ArgMax', ':ArgMin']);
const BOOL_OUT = new Set([
  ':Equal',
  ':Less',
  ':LessOrEqual',
  ':Greater',
  ':GreaterOrEqual',
  ':Not',
  ':And',
  ':Or',
  ':Xor',
  ':IsNaN',
  ':IsInf',
]);

function attrInt(node: NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : undefined;
}

/**
 * The element type of each output of `node` from its inputs' (`elems`), for the ops decoder graphs hold: Cast's
 * `to`, int64 shapes/indices, bool comparisons, Where's branches, the dequantized output of MatMulNBits /
 * GatherBlockQuantized in the activation's / scales' type, and otherwise the type of the first typed input (the
 * elementwise, data-movement and normalization ops keep their input's type). Declared types are not overridden.
 */
export function inferElemTypes(node: NodeProto, elems: Map<string, number>): void {
  const op = opKey(node);
  const input = (i: number) => (node.input[i] ? elems.get(node.input[i]!) : undefined);
  const set = (k: number, t: number | undefined) => {
    const out = node.output[k];
    if (out && t !== undefined && !elems.has(out)) elems.set(out, t);
  };
  if (op === ':Cast') return set(0, attrInt(node, 'to'));
  if (op === ':Constant') return; // shape-inference.ts reads the value tensor
  if (op === ':ConstantOfShape') {
    const value = node.attribute.find((a) => a.name === 'value')?.t;
    return set(0, value?.dataType ?? DataType.FLOAT);
  }
  if (INT64_OUT.has(op)) return set(0, DataType.INT64);
  if (BOOL_OUT.has(op)) return set(0, DataType.BOOL);
  if (op === ':Where') return set(0, input(1) ?? input(2));
  if (op === ':TopK') return (set(0, input(0)), set(1, DataType.INT64));
  if (op === ':Dropout') return (set(0, input(0)), set(1, DataType.BOOL));
  if (op === ':MatMulInteger') return set(0, DataType.INT32);
  if (op === ':DynamicQuantizeLinear')
    return (set(0, DataType.UINT8), set(1, DataType.FLOAT), set(2, DataType.UINT8));
  if (op === 'com.microsoft:GatherBlockQuantized') return set(0, input(2));
  if (op === ':Range') return set(0, input(0));
  // Gather, Slice, Reshape, Expand, elementwise ops, MatMulNBits, norms, attention: the data input's type.
  const first = node.input.map((_, i) => input(i)).find((t) => t !== undefined);
  const float = node.input.map((_, i) => input(i)).find((t) => t !== undefined && isFloatType(t));
  node.output.forEach((_, k) => set(k, k === 0 ? (input(0) ?? first) : (float ?? first)));
}

/** The float type a node computes in: its first float output's, else its first float input's (Cast: its source). */
export function computeType(
  node: NodeProto,
  elemType: (name: string) => number | undefined,
): number | undefined {
  const floatOf = (names: string[]) =>
    names.map((n) => (n ? elemType(n) : undefined)).find((t) => t !== undefined && isFloatType(t));
  return node.opType === 'Cast' ? floatOf(node.input) : (floatOf(node.output) ?? floatOf(node.input));
}
