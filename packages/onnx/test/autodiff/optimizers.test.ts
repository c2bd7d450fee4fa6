import * as ort from 'onnxruntime-node';
import { TensorProto_DataType as DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { emitAdamWUpdate } from '../../src/autodiff/optim/emit-adamw.js';
import { emitClipGradNorm } from '../../src/autodiff/optim/emit-clip-grad-norm.js';
import { emitSgdUpdate, type OptimizerOutputs } from '../../src/autodiff/optim/emit-sgd.js';
import { adamwReference } from '../../src/autodiff/reference/adamw.js';
import { clipGradNormReference } from '../../src/autodiff/reference/clip-grad-norm.js';
import { learningRate } from '../../src/autodiff/reference/lr-schedule.js';
import { sgdReference } from '../../src/autodiff/reference/sgd.js';
import { tensorValueInfo as valueInfo } from '../../src/graph/value-info.js';
import { graph, modelBytes, rng } from './helpers/onnx-model.js';

const F = DataType.FLOAT;
const dims = [2, 3];
const random = (next: () => number) => Float32Array.from({ length: 6 }, () => next());
const t = (data: Float32Array | number[], shape = dims) =>
  new ort.Tensor('float32', Float32Array.from(data), shape);

function paramGraph() {
  return graph({
    nodes: [],
    inputs: [
      { name: 'p', type: F, dims },
      { name: 'g', type: F, dims },
    ],
    outputs: [],
  });
}

async function session(g: ReturnType<typeof paramGraph>) {
  return ort.InferenceSession.create(modelBytes(g));
}

const close = (a: Float32Array, b: Float32Array) => a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 6));

describe('optimizer emitters match the pure references', () => {
  it('AdamW over three steps (state fed back)', async () => {
    const g = paramGraph();
    const out: OptimizerOutputs = emitAdamWUpdate(g, {
      params: [{ param: 'p', grad: 'g' }],
      weightDecay: 0.1,
      beta2: 0.99,
    });
    const s = await session(g);
    const next = rng(3);
    let ref: Record<'param' | 'm' | 'v', Float32Array> = {
      param: random(next),
      m: new Float32Array(6),
      v: new Float32Array(6),
    };
    let feeds: Record<string, ort.Tensor> = { p: t(ref.param), 'opt.m.p': t(ref.m), 'opt.v.p': t(ref.v) };
    for (let step = 1; step <= 3; step++) {
      const grad = random(next);
      const lr = learningRate({ kind: 'linear', lr: 0.1, warmupSteps: 1, totalSteps: 4 }, step);
      const r = await s.run({ ...feeds, g: t(grad), lr: t([lr], []), step: t([step], []) });
      ref = adamwReference(ref.param, grad, ref.m, ref.v, step, { lr, weightDecay: 0.1, beta2: 0.99 });
      close(r[out.params.get('p')!]!.data as Float32Array, ref.param);
      close(r[out.state.get('opt.m.p')!]!.data as Float32Array, ref.m);
      close(r[out.state.get('opt.v.p')!]!.data as Float32Array, ref.v);
      feeds = { p: r['updated.p']!, 'opt.m.p': r['updated.opt.m.p']!, 'opt.v.p': r['updated.opt.v.p']! };
    }
  });

  for (const maxFusedTensors of [undefined, 2])
    it(`AdamW fuses tensors of one trailing shape (Concat/Split on axis 0, no Reshape) with the same values (at most ${maxFusedTensors ?? 'the WebGPU-safe 6'} per group)`, async () => {
      // Three [*, 3] tensors and one [*, 2] (updated alone), two 1-D tensors and a scalar.
      const shapes: Record<string, number[]> = {
        a: [2, 3],
        b: [4, 3],
        f: [1, 3],
        c: [5],
        d: [7],
        e: [3, 2],
        s: [],
      };
      const names = Object.keys(shapes);
      const g = graph({
        nodes: [],
        inputs: names.flatMap((n) => [
          { name: n, type: F, dims: shapes[n]! },
          { name: `g.${n}`, type: F, dims: shapes[n]! },
        ]),
        outputs: [],
      });
      emitAdamWUpdate(g, {
        params: names.map((n) => ({ param: n, grad: `g.${n}` })),
        weightDecay: 0.1,
        ...(maxFusedTensors !== undefined && { maxFusedTensors }),
      });
      expect(g.node.filter((n) => n.opType === 'Reshape')).toHaveLength(0);
      // (p, m, v) × groups: {a, b, f}, {c, d}; with at most 2 per group {a, b}, {c, d} (f alone).
      expect(g.node.filter((n) => n.opType === 'Split')).toHaveLength(6);
      const widest = Math.max(...g.node.filter((n) => n.opType === 'Concat').map((n) => n.input.length));
      expect(widest).toBe(maxFusedTensors ?? 3);
      const s = await session(g);
      // float32 graph against the float64 reference: step 2 divides by a small √v̂, so a few e-7 apart.
      const close5 = (a: Float32Array, b: Float32Array) =>
        a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 5));
      const next = rng(6);
      const size = (n: string) => shapes[n]!.reduce((x, d) => x * d, 1);
      const vec = (n: string) => Float32Array.from({ length: size(n) }, () => next());
      const ref = new Map<string, Record<'param' | 'm' | 'v', Float32Array>>(
        names.map((n) => [n, { param: vec(n), m: new Float32Array(size(n)), v: new Float32Array(size(n)) }]),
      );
      const state = (n: string) => ref.get(n)!;
      let feeds: Record<string, ort.Tensor> = {};
      for (const n of names) {
        feeds[n] = t(state(n).param, shapes[n]);
        feeds[`opt.m.${n}`] = t(state(n).m, shapes[n]);
        feeds[`opt.v.${n}`] = t(state(n).v, shapes[n]);
      }
      for (let step = 1; step <= 2; step++) {
        const grads = new Map(names.map((n) => [n, vec(n)]));
        const gradFeeds = Object.fromEntries(names.map((n) => [`g.${n}`, t(grads.get(n)!, shapes[n])]));
        const r = await s.run({ ...feeds, ...gradFeeds, lr: t([0.05], []), step: t([step], []) });
        feeds = {};
        for (const n of names) {
          const { param, m, v } = state(n);
          const want = adamwReference(param, grads.get(n)!, m, v, step, { lr: 0.05, weightDecay: 0.1 });
          ref.set(n, want);
          for (const [key, feed] of [
            [n, `updated.${n}`],
            [`opt.m.${n}`, `updated.opt.m.${n}`],
            [`opt.v.${n}`, `updated.opt.v.${n}`],
          ] as const) {
            expect(r[feed]!.dims).toEqual(shapes[n]);
            feeds[key] = r[feed]!;
          }
          close5(r[`updated.${n}`]!.data as Float32Array, want.param);
          close5(r[`updated.opt.m.${n}`]!.data as Float32Array, want.m);
          close5(r[`updated.opt.v.${n}`]!.data as Float32Array, want.v);
        }
      }
    });

  it('SGD with momentum and weight decay over three steps', async () => {
    const g = paramGraph();
    emitSgdUpdate(g, { params: [{ param: 'p', grad: 'g' }], momentum: 0.9, weightDecay: 0.01 });
    const s = await session(g);
    const next = rng(4);
    let ref: Record<'param' | 'buffer', Float32Array> = { param: random(next), buffer: new Float32Array(6) };
    let feeds: Record<string, ort.Tensor> = { p: t(ref.param), 'opt.momentum.p': t(ref.buffer) };
    for (let step = 0; step < 3; step++) {
      const grad = random(next);
      const r = await s.run({ ...feeds, g: t(grad), lr: t([0.05], []) });
      ref = sgdReference(ref.param, grad, ref.buffer, { lr: 0.05, momentum: 0.9, weightDecay: 0.01 });
      close(r['updated.p']!.data as Float32Array, ref.param);
      close(r['updated.opt.momentum.p']!.data as Float32Array, ref.buffer);
      feeds = { p: r['updated.p']!, 'opt.momentum.p': r['updated.opt.momentum.p']! };
    }
  });

  it.each([0.5, 100])('clips by global norm in-graph (max norm %s)', async (maxNorm) => {
    const g = graph({
      nodes: [],
      inputs: [
        { name: 'a', type: F, dims },
        { name: 'b', type: F, dims: [4] },
      ],
      outputs: [],
    });
    const clipped = emitClipGradNorm(g, { grads: ['a', 'b'], maxNorm });
    for (const v of clipped.values()) g.output.push(valueInfo(v, F));
    const next = rng(5);
    const [a, b] = [random(next), Float32Array.from({ length: 4 }, () => next())];
    const r = await (await session(g)).run({ a: t(a), b: t(b, [4]) });
    const ref = clipGradNormReference([a, b], maxNorm);
    expect(Number((r.grad_norm!.data as Float32Array)[0])).toBeCloseTo(ref.norm, 5);
    close(r[clipped.get('a')!]!.data as Float32Array, ref.grads[0]!);
    close(r[clipped.get('b')!]!.data as Float32Array, ref.grads[1]!);
    expect(ref.norm > maxNorm).toBe(maxNorm === 0.5); // both branches of the clip are exercised
  });
});

describe('learning-rate schedules', () => {
  it('warm up linearly, then decay linearly or along a cosine to zero', () => {
    const s = { lr: 1, warmupSteps: 10, totalSteps: 110 };
    expect(learningRate({ ...s, kind: 'linear' }, 5)).toBeCloseTo(0.5);
    expect(learningRate({ ...s, kind: 'linear' }, 60)).toBeCloseTo(0.5);
    expect(learningRate({ ...s, kind: 'linear' }, 110)).toBe(0);
    expect(learningRate({ ...s, kind: 'cosine' }, 10)).toBeCloseTo(1);
    expect(learningRate({ ...s, kind: 'cosine' }, 60)).toBeCloseTo(0.5);
    expect(learningRate({ ...s, kind: 'cosine' }, 110)).toBeCloseTo(0);
    expect(learningRate({ lr: 0.3, kind: 'constant' }, 1000)).toBe(0.3);
    expect(() => learningRate({ lr: 1, kind: 'cosine' }, 3)).toThrow(/totalSteps/);
  });
});
