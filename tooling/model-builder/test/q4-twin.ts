import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { rawTensor, tensorToFloat32 } from '@mor/onnx';
import { ModelProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';

type Node = NonNullable<ModelProto['graph']>['node'][number];
const attr = (n: Node, name: string, fallback: number) => {
  const a = n.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : fallback;
};

/** Code `i` of a uint8 tensor packing 4-bit codes two per byte, low nibble first (the op spec's layout). */
const code = (bytes: Uint8Array, i: number) => (bytes[i >> 1]! >> ((i & 1) * 4)) & 15;

/**
 * The twin of a q4 graph with plain float weights, read from the op definitions alone (not from the builder's
 * quantizer): each `MatMulNBits` becomes a `MatMul` by `W[k, n] = (code − zero point) · scale` (B `[N, nBlocks,
 * 16]`, zero point 8 without the zero-points input; float32 weights, so a q4f16 graph is first taken back to
 * float32 types with convertFloatType), each
 * uint8 `GatherBlockQuantized` a `Gather` from its dequantized table (data `[rows, cols / 2]` through an optional
 * Reshape, scales `[rows, nBlocks]`). Same node names and outputs, everything else unchanged.
 */
export function q4Twin(q4: Uint8Array): Uint8Array {
  const model = fromBinary(ModelProtoSchema, q4);
  const g = model.graph!;
  const inits = new Map<string, TensorProto>(g.initializer.map((t) => [t.name, t]));
  const producers = new Map(g.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const constOf = (name: string): TensorProto => {
    const direct = inits.get(name);
    if (direct) return direct;
    const reshape = producers.get(name); // GatherBlockQuantized reading a tied lm_head through a Reshape
    if (reshape?.opType === 'Reshape') return inits.get(reshape.input[0]!)!;
    throw new Error(`no constant for ${name}`);
  };
  for (const n of g.node) {
    if (n.opType === 'MatMulNBits') {
      const [k, cols, block] = [attr(n, 'K', 0), attr(n, 'N', 0), attr(n, 'block_size', 0)];
      const [data, scales] = [constOf(n.input[1]!).rawData, tensorToFloat32(constOf(n.input[2]!))];
      const nBlocks = Math.ceil(k / block);
      // Zero points (the asymmetric form): uint8, 4-bit codes packed per column, ceil(nBlocks / 2) bytes a column.
      const zpBytes = n.input[3] ? constOf(n.input[3]).rawData : undefined;
      const zp = (c: number, b: number) => (zpBytes ? code(zpBytes, c * 2 * Math.ceil(nBlocks / 2) + b) : 8);
      const w = new Float32Array(k * cols);
      for (let c = 0; c < cols; c++)
        for (let r = 0; r < k; r++) {
          const b = Math.floor(r / block);
          w[r * cols + c] =
            (code(data, (c * nBlocks + b) * block + (r % block)) - zp(c, b)) * scales[c * nBlocks + b]!;
        }
      const name = `${n.input[1]}_dequantized`;
      g.initializer.push(rawTensor(name, [k, cols], w));
      Object.assign(n, { opType: 'MatMul', domain: '', input: [n.input[0]!, name], attribute: [] });
    } else if (n.opType === 'GatherBlockQuantized') {
      const [data, scalesT] = [constOf(n.input[0]!), constOf(n.input[2]!)];
      const block = attr(n, 'block_size', 128);
      const scales = tensorToFloat32(scalesT);
      const rows = Number(scalesT.dims.length === 2 ? scalesT.dims[0] : 0) || Number(data.dims[0]);
      const cols = (data.rawData.length * 2) / rows;
      const nBlocks = cols / block;
      const table = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++)
          table[r * cols + c] =
            (code(data.rawData, r * cols + c) - 8) * scales[r * nBlocks + Math.floor(c / block)]!;
      const name = `${n.name}_dequantized_table`;
      g.initializer.push(rawTensor(name, [rows, cols], table));
      Object.assign(n, { opType: 'Gather', domain: '', input: [name, n.input[1]!], attribute: [] });
    }
  }
  const read = new Set(g.node.flatMap((n) => n.input));
  g.node = g.node.filter((n) => n.output.some((o) => read.has(o) || g.output.some((v) => v.name === o)));
  const used = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name));
  return toBinary(ModelProtoSchema, model);
}
