// The training form of the MoR branch (src/pass/mor-branch.ts, applyAdapter with paramsAsInputs, dense or
// top-k routing): forward against @mor/core's morForward, gradients from buildGradientGraph against morBackward;
// static routing keeps the general branch and still matches the reference.
import { morBackward, morForward, type MorLayerWeights, type MorRouting } from '@mor/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  applyAdapter,
  buildGradientGraph,
  floatTensor,
  modelGraph,
  tensorValueInfo,
  type MorAdapterInput,
} from '../src/index.js';
import { maxAbsDiff, run } from './helpers/fixtures.js';
import { model, node, rand, randomMor } from './helpers/synthetic.js';

const [T, D_IN, D_OUT, R, N] = [6, 8, 5, 3, 4];
const ALPHA = 2 * R;
const W = rand(D_IN * D_OUT, 5, 0.5); // [d_in, d_out], as the MatMul reads it
const X = rand(T * D_IN, 23, 1.5);
const UPSTREAM = rand(T * D_OUT, 31, 1);
const MODULE = 'net.fc';
const PARAMS = ['A', 'B', 'omegaA', 'omegaB', 'routerWeight', 'routerBias'] as const;

/** y = x · W with x of shape `xDims` (rank 2 or 3). */
const linear = (xDims: number[]) =>
  model(
    [node('MatMul', ['x', 'W'], ['y'], '/net/fc/MatMul')],
    [floatTensor('W', [D_IN, D_OUT], W)],
    [tensorValueInfo('x', DataType.FLOAT, xDims)],
    [tensorValueInfo('y', DataType.FLOAT, [...xDims.slice(0, -1), D_OUT])],
  );

/** The base weight in nn.Linear layout `[d_out, d_in]`. */
const baseWeight = Float32Array.from(
  { length: D_OUT * D_IN },
  (_, k) => W[(k % D_IN) * D_OUT + Math.floor(k / D_IN)]!,
);

function adapter(w: MorLayerWeights, topK: number | null): MorAdapterInput {
  return {
    kind: 'mor',
    config: { r: R, alpha: ALPHA, experts: N, topK, routerBias: w.routerBias !== null },
    layers: new Map([[MODULE, w]]),
  };
}

type Options = Parameters<typeof applyAdapter>[2];

/** Patches the linear model for training and returns it with the feeds (x and every parameter). */
function patched(w: MorLayerWeights, xDims: number[], topK: number | null, options: Options) {
  const m = linear(xDims);
  const res = applyAdapter(m, adapter(w, topK), { paramsAsInputs: true, ...options });
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', X, xDims) };
  for (const [name, p] of res.params) feeds[name] = new ort.Tensor('float32', p.data, p.dims);
  const initializers = new Set(modelGraph(m).initializer.map((t) => t.name));
  return { m, res, feeds, trainForm: [...initializers].some((n) => n.endsWith('/tile_u')) };
}

const reference = (w: MorLayerWeights, routing: MorRouting) =>
  morForward({ x: X, baseWeight, weights: w, config: { r: R, alpha: ALPHA }, routing });

// Both down-projection forms: A and the router in one MatMul (default), or apart (what adapter dropout needs);
// dense routing and top-2 (the adapter config's topK).
const ROUTINGS: [number | null, MorRouting][] = [
  [null, { mode: 'dense' }],
  [2, { mode: 'top-k', k: 2 }],
];
for (const separateDownProjection of [false, true])
  for (const [topK, routing] of ROUTINGS)
    describe(`training branch (paramsAsInputs, ${routing.mode} routing, separateDownProjection ${separateDownProjection})`, () => {
      for (const bias of [false, true])
        for (const xDims of [
          [T, D_IN],
          [2, 3, D_IN],
        ])
          it(`forward equals morForward (router bias ${bias}, x rank ${xDims.length})`, async () => {
            const w = randomMor(D_IN, D_OUT, R, N, bias, 11);
            const { m, res, feeds, trainForm } = patched(w, xDims, topK, {
              exposeGates: true,
              separateDownProjection,
            });
            // Separate: x·Aᵀ is a MatMul of its own whose weight is Transpose(A) (where dropout is placed).
            const g = modelGraph(m);
            const aT = g.node.find((n) => n.opType === 'Transpose' && n.input[0] === `mor.${MODULE}.A`);
            expect(!!aT && g.node.some((n) => n.opType === 'MatMul' && n.input[1] === aT.output[0])).toBe(
              separateDownProjection,
            );
            expect(trainForm).toBe(true);
            // Parameters are graph inputs under their own names, not initializers.
            expect([...res.params.keys()].sort()).toEqual(
              PARAMS.filter((p) => bias || p !== 'routerBias')
                .map((p) => `mor.${MODULE}.${p}`)
                .sort(),
            );
            const out = await run(m, feeds);
            const ref = reference(w, routing);
            expect(out.y!.dims).toEqual([...xDims.slice(0, -1), D_OUT]);
            expect(maxAbsDiff(out.y!.data as Float32Array, ref.y)).toBeLessThan(1e-5);
            const gates = out[res.gateOutputs[0]!]!;
            expect(gates.dims).toEqual([...xDims.slice(0, -1), N]);
            expect(maxAbsDiff(gates.data as Float32Array, ref.gates)).toBeLessThan(1e-5);
          });

      for (const bias of [false, true])
        it(`gradients of Σ y·upstream equal morBackward (router bias ${bias})`, async () => {
          const w = randomMor(D_IN, D_OUT, R, N, bias, 17);
          const xDims = [2, 3, D_IN];
          const { m, res, feeds, trainForm } = patched(w, xDims, topK, { separateDownProjection });
          expect(trainForm).toBe(true);
          const g = modelGraph(m);
          g.initializer.push(floatTensor('upstream', [2, 3, D_OUT], UPSTREAM));
          g.node.push(
            node('Mul', ['y', 'upstream'], ['y_up'], '/loss/Mul'),
            node('ReduceSum', ['y_up'], ['loss'], '/loss/ReduceSum', { keepdims: { int: 0 } }),
          );
          g.output.push(tensorValueInfo('loss', DataType.FLOAT, []));
          const wrt = [...res.params.keys(), 'x'];
          const { gradients } = buildGradientGraph(g, { loss: 'loss', wrt, opset: 17 });
          // dA comes straight out of the weight-gradient MatMul (dyᵀ·x): the Transpose the MatMul rule emits for a
          // tall-thin weight and the one of Aᵀ's own rule cancel (fused form: through the Concat's Split).
          const producer = (t: string) => g.node.find((n) => n.output.includes(t))!;
          let dA = producer(gradients.get(`mor.${MODULE}.A`)!);
          if (dA.opType === 'Identity') dA = producer(dA.input[0]!); // the grad.<param> output name
          if (!separateDownProjection && dA.opType === 'Split') dA = producer(dA.input[0]!);
          expect(dA.opType).toBe('MatMul');
          const out = await run(m, feeds);
          const ref = morBackward({
            x: X,
            baseWeight,
            weights: w,
            config: { r: R, alpha: ALPHA },
            routing,
            upstream: UPSTREAM,
          });
          for (const p of PARAMS) {
            const want = ref[p];
            const name = `mor.${MODULE}.${p}`;
            if (!want) {
              expect(res.params.has(name), p).toBe(false);
              continue;
            }
            const got = out[gradients.get(name)!]!;
            expect(got.dims, p).toEqual(res.params.get(name)!.dims);
            expect(maxAbsDiff(got.data as Float32Array, want), p).toBeLessThan(1e-4);
          }
          expect(maxAbsDiff(out[gradients.get('x')!]!.data as Float32Array, ref.x)).toBeLessThan(1e-4);
        });
    });

describe('other cases keep the general branch', () => {
  it('static routing with paramsAsInputs: results equal the reference', async () => {
    const w = randomMor(D_IN, D_OUT, R, N, true, 13);
    const gate = [0.1, 0.2, 0.3, 0.4];
    const routing: MorRouting = { mode: 'static', gate: Float32Array.from(gate) };
    const { m, feeds, trainForm } = patched(w, [2, 3, D_IN], null, { routing: 'static', gate });
    expect(trainForm).toBe(false);
    const out = await run(m, feeds);
    expect(maxAbsDiff(out.y!.data as Float32Array, reference(w, routing).y)).toBeLessThan(1e-5);
  });

  it('top-k asked for by option, over a dense config, takes the training form too', async () => {
    const w = randomMor(D_IN, D_OUT, R, N, true, 13);
    const { m, feeds, trainForm } = patched(w, [2, 3, D_IN], null, { routing: 'top-k', topK: 1 });
    expect(trainForm).toBe(true);
    const out = await run(m, feeds);
    expect(maxAbsDiff(out.y!.data as Float32Array, reference(w, { mode: 'top-k', k: 1 }).y)).toBeLessThan(
      1e-5,
    );
  });

  it('models below opset 13 keep the general branch for dense routing', async () => {
    const w = randomMor(D_IN, D_OUT, R, N, true, 19);
    const m = linear([T, D_IN]);
    m.opsetImport[0]!.version = 12n;
    const res = applyAdapter(m, adapter(w, null), { paramsAsInputs: true });
    expect(modelGraph(m).initializer.some((t) => t.name.endsWith('/tile_u'))).toBe(false);
    const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', X, [T, D_IN]) };
    for (const [name, p] of res.params) feeds[name] = new ort.Tensor('float32', p.data, p.dims);
    const out = await run(m, feeds);
    expect(maxAbsDiff(out.y!.data as Float32Array, reference(w, { mode: 'dense' }).y)).toBeLessThan(1e-5);
  });
});
