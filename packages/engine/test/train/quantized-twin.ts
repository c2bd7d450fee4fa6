import {
  DataType,
  GraphBuilder,
  decodeModel,
  encodeModelBytes,
  rawTensor,
  tensorToFloat32,
  type ModelProto,
} from '@mor/onnx';
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

/** `2^40`: the detach below is exact for |x| ≥ 2^-17 and off by less than 2^-40 below that. */
const DETACH_SCALE = 2 ** 40;

/**
 * The fp32 twin of a builder model whose linears are onnxruntime's dynamic-quantization chains
 * (DynamicQuantizeLinear → MatMulInteger → Cast → Mul): each becomes, with `W` the dequantized weight
 * `(B − zp)·scale` computed here and `fq(x) = DequantizeLinear(DynamicQuantizeLinear(x))` the activation quantized
 * as the q8 forward quantizes it,
 *
 *   y = MatMul(x, W) + MatMul(fq(x̄) − x̄, Identity(W)),   x̄ = x detached,
 *
 * so its forward is `fq(x)·W` (the q8 forward in float arithmetic) and its gradient is the ordinary MatMul one,
 * `dy·Wᵀ`: the straight-through convention, written out with standard ops, without the rule under test. `x̄` is x
 * scaled by 2^40, cast to int64 and back (a cast to an integer type carries no gradient: no-gradient.ts). The MatMul
 * keeps the MatMulInteger's node name, so the adapter targets the same layers; the residual's weight comes through
 * an Identity, so the matcher does not take it for a linear layer. With `quantizeActivations` false, `y = MatMul(x, W)` only: the twin a q8 step
 * does not equal (its activations are not rounded), to show what the rounding changes.
 */
export async function int8Twin(q8: Uint8Array, quantizeActivations = true): Promise<Uint8Array> {
  const model: ModelProto = await decodeModel(q8);
  const g = model.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const producer = new Map(g.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const consumer = (t: string) => g.node.find((n) => n.input.includes(t))!;
  const values = (name: string) => {
    const t = inits.get(name)!;
    if (t.dataType === DataType.FLOAT) return tensorToFloat32(t);
    const bytes = t.rawData;
    return t.dataType === DataType.INT8
      ? Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length))
      : Float32Array.from(bytes);
  };
  const drop = new Set<(typeof g.node)[number]>();
  const detached = new Map<string, string>(); // x → fq(x̄) − x̄
  for (const m of g.node.filter((n) => n.opType === 'MatMulInteger')) {
    const dql = producer.get(m.input[0]!)!;
    const cast = consumer(m.output[0]!);
    const mul = consumer(cast.output[0]!);
    const scales = producer.get(mul.input.find((i) => i !== cast.output[0])!)!;
    const x = dql.input[0]!;
    const b = inits.get(m.input[1]!)!;
    const [k, n] = b.dims.map(Number) as [number, number];
    const [q, s] = [values(b.name), values(scales.input.find((i) => i !== dql.output[1])!)];
    const zp = m.input[3] ? values(m.input[3]) : new Float32Array(1);
    const w = q.map((v, i) => (v - zp[zp.length === 1 ? 0 : i % n]!) * s[s.length === 1 ? 0 : i % n]!);
    const wName = `${b.name}_dequantized`;
    g.initializer.push(rawTensor(wName, [k, n], w));
    const at = (node: (typeof g.node)[number]) =>
      new GraphBuilder(g, { scope: '/twin', opset: 17, place: { before: node } });
    if (quantizeActivations && !detached.has(x)) {
      const e = at(dql);
      const xd = e.op1('Mul', [
        e.op1(
          'Cast',
          [e.op1('Cast', [e.op1('Mul', [x, e.f(DETACH_SCALE)])], { to: { int: DataType.INT64 } })],
          {
            to: { int: DataType.FLOAT },
          },
        ),
        e.f(1 / DETACH_SCALE),
      ]);
      const fq = e.op1('DequantizeLinear', e.op('DynamicQuantizeLinear', [xd], {}, 3));
      detached.set(x, e.op1('Sub', [fq, xd]));
    }
    const y = mul.output[0]!;
    for (const old of [cast, mul, scales]) if (g.node.includes(old)) g.node.splice(g.node.indexOf(old), 1);
    const e = at(m);
    const main = e.op('MatMul', [x, wName], {}, 1, { name: m.name })[0]!;
    if (!quantizeActivations) e.op('Identity', [main], {}, [y]);
    else {
      const residual = e.op1('MatMul', [detached.get(x)!, e.op1('Identity', [wName])]);
      e.op('Add', [main, residual], {}, [y]);
    }
    drop.add(m).add(dql);
  }
  g.node = g.node.filter((n) => !drop.has(n));
  const used = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name));
  return encodeModelBytes(model);
}
