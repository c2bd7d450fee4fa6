import { decodeModel, encodeModelBytes, rawTensor, tensorToFloat32, type ModelProto } from '@mor/onnx';
import { dequantizeNBits } from '@mor/model-builder';

type Node = NonNullable<ModelProto['graph']>['node'][number];
const attr = (n: Node, name: string) => Number(n.attribute.find((a) => a.name === name)!.i);

/**
 * The fp32 twin of a builder model whose linears are MatMulNBits: each becomes a MatMul (same node name, same
 * output) by the dequantized weight `[K, N]` (the builder's `dequantizeNBits`), everything else unchanged.
 */
export async function nbitsTwin(q4: Uint8Array): Promise<Uint8Array> {
  const model: ModelProto = await decodeModel(q4);
  const g = model.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  for (const n of g.node) {
    if (n.opType !== 'MatMulNBits') continue;
    const [k, n_, block] = [attr(n, 'K'), attr(n, 'N'), attr(n, 'block_size')];
    const [b, s, zp] = [inits.get(n.input[1]!)!, inits.get(n.input[2]!)!, inits.get(n.input[3]!)!];
    const q = {
      packed: b.rawData,
      scales: tensorToFloat32(s),
      zeroPoints: zp.rawData,
      nBlocks: Math.ceil(k / block),
    };
    const name = `${n.input[1]}_dequantized`;
    g.initializer.push(rawTensor(name, [k, n_], dequantizeNBits(q, k, n_, block)));
    Object.assign(n, { opType: 'MatMul', domain: '', input: [n.input[0]!, name], attribute: [] });
  }
  const used = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name));
  return encodeModelBytes(model);
}
