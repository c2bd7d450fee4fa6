// Broadcast gradients summed back with constant axes when shapes are known up to symbols (sum-to-shape.ts on
// shapes from shape-inference.ts): right values (finite differences), and no run-time axis logic.
import { clone } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { GraphProtoSchema, TensorProto_DataType as DataType, type GraphProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/autodiff/build-gradient-graph.js';
import type { StaticDim } from '../../src/autodiff/static-info.js';
import { graph, modelBytes, node, rng } from './helpers/onnx-model.js';

const D = DataType.DOUBLE;
const [B, T, DIM] = [2, 3, 4];
const sizes: Record<string, number> = { batch: B, seq: T };

// loss = Σ (m ⊙ (a + c)) ⊙ u with a, u: [batch, seq, D], c: [D], m: [batch, 1, D] (symbolic batch and seq).
const inputs: Record<string, StaticDim[]> = {
  a: ['batch', 'seq', DIM],
  c: [DIM],
  m: ['batch', 1, DIM],
  u: ['batch', 'seq', DIM],
};
const lossGraph = (): GraphProto =>
  graph({
    nodes: [
      node('Add', ['a', 'c'], ['sum']),
      node('Mul', ['m', 'sum'], ['y']),
      node('Mul', ['y', 'u'], ['yu']),
      node('ReduceSum', ['yu'], ['loss'], { keepdims: 0 }),
    ],
    inputs: Object.entries(inputs).map(([name, dims]) => ({ name, type: D, dims })),
    outputs: [{ name: 'loss', type: D, dims: [] }],
  });

const concrete = (dims: StaticDim[]) => dims.map((d) => (typeof d === 'number' ? d : sizes[d]!));
const size = (dims: StaticDim[]) => concrete(dims).reduce((p, d) => p * d, 1);
const feeds = (values: Record<string, number[]>) =>
  Object.fromEntries(
    Object.entries(values).map(([n, v]) => [
      n,
      new ort.Tensor('float64', Float64Array.from(v), concrete(inputs[n]!)),
    ]),
  );

describe('sumToShape with inferred (symbolic) shapes', () => {
  it('Add([B,T,D],[D]) and Mul([B,1,D],[B,T,D]): gradients match finite differences, axes are constants', async () => {
    const forward = lossGraph();
    const g = clone(GraphProtoSchema, forward);
    const wrt = ['a', 'c', 'm'];
    const { gradients } = buildGradientGraph(g, { loss: 'loss', wrt, opset: 17 });
    const backward = g.node.slice(forward.node.length);
    const ops = backward.map((n) => n.opType);
    // Static shapes: no NonZero / shape comparison to find the axes at run time (the loss seed's
    // ConstantOfShape and Expand are the only shape logic).
    for (const op of ['NonZero', 'Equal', 'Not', 'Sub', 'Concat']) expect(ops, op).not.toContain(op);
    const constants = new Set([
      ...g.initializer.map((t) => t.name),
      ...g.node.filter((n) => n.opType === 'Constant').map((n) => n.output[0]!),
    ]);
    const reduces = backward.filter((n) => n.opType === 'ReduceSum');
    expect(reduces.length).toBeGreaterThanOrEqual(2); // c: over batch and seq; m: over seq
    for (const r of reduces) expect(constants.has(r.input[1]!), `${r.name} axes`).toBe(true);

    const next = rng(7);
    const values = Object.fromEntries(
      Object.entries(inputs).map(([n, dims]) => [n, Array.from({ length: size(dims) }, () => next())]),
    );
    const fwd = await ort.InferenceSession.create(modelBytes(forward));
    const bwd = await ort.InferenceSession.create(modelBytes(g));
    const out = await bwd.run(feeds(values));
    const loss = async (v: Record<string, number[]>) => Number((await fwd.run(feeds(v))).loss!.data[0]);
    const eps = 1e-6;
    for (const w of wrt) {
      const grad = out[gradients.get(w)!]!;
      expect([...grad.dims], w).toEqual(concrete(inputs[w]!));
      for (let i = 0; i < values[w]!.length; i++) {
        const at = (d: number) => ({ ...values, [w]: values[w]!.map((x, j) => (j === i ? x + d : x)) });
        const fd = ((await loss(at(eps))) - (await loss(at(-eps)))) / (2 * eps);
        expect(Math.abs(Number(grad.data[i]) - fd), `${w}[${i}]`).toBeLessThan(1e-6);
      }
    }
  });

  it('falls back to run-time axes when a shape is not known, still correct', async () => {
    // m of unknown batch size ([?, 1, D] with an unnamed dim): its gradient's axes cannot be told statically.
    const forward = lossGraph();
    forward.input[2] = graph({
      nodes: [],
      inputs: [{ name: 'm', type: D, dims: ['?m#0', 1, DIM] }],
      outputs: [],
    }).input[0]!;
    const g = clone(GraphProtoSchema, forward);
    const { gradients } = buildGradientGraph(g, { loss: 'loss', wrt: ['m'], opset: 17 });
    const next = rng(9);
    const values = Object.fromEntries(
      Object.entries(inputs).map(([n, dims]) => [n, Array.from({ length: size(dims) }, () => next())]),
    );
    const out = await (await ort.InferenceSession.create(modelBytes(g))).run(feeds(values));
    // dL/dm[b, 0, d] = Σ_t (a + c)[b, t, d] · u[b, t, d]
    const want = Array.from({ length: B * DIM }, (_, k) => {
      const [b, d] = [Math.floor(k / DIM), k % DIM];
      let s = 0;
      for (let t = 0; t < T; t++) {
        const i = (b * T + t) * DIM + d;
        s += (values.a![i]! + values.c![d]!) * values.u![i]!;
      }
      return s;
    });
    const got = out[gradients.get('m')!]!;
    expect([...got.dims]).toEqual([B, 1, DIM]);
    want.forEach((v, k) => expect(Math.abs(Number(got.data[k]) - v)).toBeLessThan(1e-9));
  });
});
