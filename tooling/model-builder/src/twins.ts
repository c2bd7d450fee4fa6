// Float32 twins of quantized graphs, for the tests and benchmarks that check a quantized form against the fp32
// graph of the same (dequantized) weights. Written from the op definitions (onnxruntime's ContribOperators.md and
// quantize_dynamic's chain), not from this package's quantizers, so a quantizer bug cannot hide in its own twin.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { DataType, GraphBuilder, rawTensor, tensorToFloat32 } from '@mor/onnx';
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
export function int8Twin(q8: Uint8Array, quantizeActivations = true): Uint8Array {
  const model = fromBinary(ModelProtoSchema, q8);
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
  return toBinary(ModelProtoSchema, model);
}
