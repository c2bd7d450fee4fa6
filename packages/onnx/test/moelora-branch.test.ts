// The MoELoRA branch (src/pass/mor-branch.ts with independent experts, mor-spec.md §7): inference forms (folded
// and not) and the training form against @mor/core's moeLoraForward / moeLoraBackward; on tiny-llama, the MoR
// fixture adapter rewritten as the equivalent MoELoRA reproduces PyTorch's golden logits.
import {
  moeLoraBackward,
  moeLoraForward,
  moeLoraFromMor,
  type MoeLoraLayerWeights,
  type MoeLoraRouting,
} from '@mor/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  GraphError,
  applyAdapter,
  buildGradientGraph,
  decodeModel,
  floatTensor,
  modelGraph,
  tensorValueInfo,
  type ApplyAdapterOptions,
  type MoeLoraAdapterInput,
} from '../src/index.js';
import {
  fixture,
  fixtureBytes,
  golden,
  int64,
  maxAbsDiff,
  run,
  type GoldenTensor,
} from './helpers/fixtures.js';
import { loadMorAdapter } from './helpers/load-adapter.js';
import { model, node, rand } from './helpers/synthetic.js';

const [T, D_IN, D_OUT, R, N] = [6, 8, 5, 3, 4];
const ALPHA = 2 * R;
const W = rand(D_IN * D_OUT, 5, 0.5); // [d_in, d_out], as the MatMul reads it
const X = rand(T * D_IN, 23, 1.5);
const UPSTREAM = rand(T * D_OUT, 31, 1);
const MODULE = 'net.fc';
const PARAMS = ['A', 'B', 'routerWeight', 'routerBias'] as const;
const baseWeight = Float32Array.from(
  { length: D_OUT * D_IN },
  (_, k) => W[(k % D_IN) * D_OUT + Math.floor(k / D_IN)]!,
);

const linear = (xDims: number[]) =>
  model(
    [node('MatMul', ['x', 'W'], ['y'], '/net/fc/MatMul')],
    [floatTensor('W', [D_IN, D_OUT], W)],
    [tensorValueInfo('x', DataType.FLOAT, xDims)],
    [tensorValueInfo('y', DataType.FLOAT, [...xDims.slice(0, -1), D_OUT])],
  );

function randomMoeLora(bias: boolean, seed: number): MoeLoraLayerWeights {
  return {
    dIn: D_IN,
    dOut: D_OUT,
    r: R,
    experts: N,
    A: rand(N * R * D_IN, seed, 0.5),
    B: rand(N * D_OUT * R, seed + 1, 0.5),
    routerWeight: rand(N * D_IN, seed + 2, 1),
    routerBias: bias ? rand(N, seed + 3, 0.5) : null,
  };
}

const adapter = (w: MoeLoraLayerWeights, topK: number | null): MoeLoraAdapterInput => ({
  kind: 'moelora',
  config: { r: R, alpha: ALPHA, experts: N, topK, routerBias: w.routerBias !== null },
  layers: new Map([[MODULE, w]]),
});

function patched(w: MoeLoraLayerWeights, xDims: number[], topK: number | null, options: ApplyAdapterOptions) {
  const m = linear(xDims);
  const res = applyAdapter(m, adapter(w, topK), options);
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', X, xDims) };
  if (options.paramsAsInputs)
    for (const [name, p] of res.params) feeds[name] = new ort.Tensor('float32', p.data, p.dims);
  return { m, res, feeds };
}

const reference = (w: MoeLoraLayerWeights, routing: MoeLoraRouting) =>
  moeLoraForward({ x: X, baseWeight, weights: w, config: { r: R, alpha: ALPHA }, routing });

const ROUTINGS: [number | null, MoeLoraRouting][] = [
  [null, { mode: 'dense' }],
  [2, { mode: 'top-k', k: 2 }],
];

const FORMS: Record<string, ApplyAdapterOptions> = {
  'inference, folded': { foldExperts: true },
  'inference, unfolded': {},
  training: { paramsAsInputs: true },
  'training, separate down-projection': { paramsAsInputs: true, separateDownProjection: true },
};

for (const [label, options] of Object.entries(FORMS))
  for (const [topK, routing] of ROUTINGS)
    describe(`MoELoRA branch (${label}, ${routing.mode})`, () => {
      for (const bias of [false, true])
        it(`y and the gates equal moeLoraForward (router bias ${bias}, x [2, 3, d_in])`, async () => {
          const w = randomMoeLora(bias, 11);
          const { m, res, feeds } = patched(w, [2, 3, D_IN], topK, { ...options, exposeGates: true });
          if (options.foldExperts) {
            // Folded: the stacked experts and the repeated router are one `down` constant, B_catᵀ one `up`.
            expect([...res.params.values()].map((p) => p.tensor).sort()).toEqual(
              bias ? ['down', 'gatesFromRep', 'routerBiasRep', 'up'] : ['down', 'gatesFromRep', 'up'],
            );
            expect(res.params.get(`moelora.${MODULE}.down`)!.dims).toEqual([D_IN, 2 * N * R]);
          } else {
            expect([...res.params.keys()].sort()).toEqual(
              PARAMS.filter((p) => bias || p !== 'routerBias')
                .map((p) => `moelora.${MODULE}.${p}`)
                .sort(),
            );
          }
          const out = await run(m, feeds);
          const ref = reference(w, routing);
          expect(out.y!.dims).toEqual([2, 3, D_OUT]);
          expect(maxAbsDiff(out.y!.data as Float32Array, ref.y)).toBeLessThan(1e-5);
          expect(
            maxAbsDiff(
              out.y!.data as Float32Array,
              moeLoraForward({ ...refArgs(w), routing: { mode: 'dense' } }).y,
            ) > 1e-4,
          ).toBe(routing.mode === 'top-k');
          const gates = out[res.gateOutputs[0]!]!;
          expect(gates.dims).toEqual([2, 3, N]);
          expect(maxAbsDiff(gates.data as Float32Array, ref.gates)).toBeLessThan(1e-5);
        });

      if (options.paramsAsInputs)
        it('gradients of Σ y·upstream equal moeLoraBackward', async () => {
          const w = randomMoeLora(true, 17);
          const { m, res, feeds } = patched(w, [2, 3, D_IN], topK, options);
          const g = modelGraph(m);
          g.initializer.push(floatTensor('upstream', [2, 3, D_OUT], UPSTREAM));
          g.node.push(
            node('Mul', ['y', 'upstream'], ['y_up'], '/loss/Mul'),
            node('ReduceSum', ['y_up'], ['loss'], '/loss/ReduceSum', { keepdims: { int: 0 } }),
          );
          g.output.push(tensorValueInfo('loss', DataType.FLOAT, []));
          const { gradients } = buildGradientGraph(g, {
            loss: 'loss',
            wrt: [...res.params.keys(), 'x'],
            opset: 17,
          });
          const out = await run(m, feeds);
          const ref = moeLoraBackward({ ...refArgs(w), routing, upstream: UPSTREAM });
          for (const p of PARAMS) {
            const name = `moelora.${MODULE}.${p}`;
            const got = out[gradients.get(name)!]!;
            expect(got.dims, p).toEqual(res.params.get(name)!.dims);
            expect(maxAbsDiff(got.data as Float32Array, ref[p]!), p).toBeLessThan(1e-4);
          }
          expect(maxAbsDiff(out[gradients.get('x')!]!.data as Float32Array, ref.x)).toBeLessThan(1e-4);
        });
    });

function refArgs(w: MoeLoraLayerWeights) {
  return { x: X, baseWeight, weights: w, config: { r: R, alpha: ALPHA } };
}

describe('MoELoRA refusals', () => {
  it('static routing is refused with the reason', () => {
    const m = linear([T, D_IN]);
    expect(() =>
      applyAdapter(m, adapter(randomMoeLora(false, 3), null), {
        routing: 'static',
        gate: [0.25, 0.25, 0.25, 0.25],
      }),
    ).toThrow(new GraphError('a MoELoRA adapter has no static routing (its router is part of the adapter)'));
  });
});

describe('tiny-llama: the MoR fixture as a MoELoRA adapter', () => {
  interface Golden {
    input_ids: number[][];
    attention_mask: number[][];
    logits_base: GoldenTensor;
    logits_mor: GoldenTensor;
  }
  const g = golden<Golden>('tiny-llama/golden.json');
  for (const foldExperts of [true, false])
    it(`reproduces PyTorch's logits_mor (foldExperts ${foldExperts})`, async () => {
      const mor = loadMorAdapter(fixture('tiny-llama/mor-adapter/'));
      const moe: MoeLoraAdapterInput = {
        kind: 'moelora',
        config: mor.config,
        layers: new Map([...mor.layers].map(([m, w]) => [m, moeLoraFromMor(w)])),
      };
      const graph = await decodeModel(fixtureBytes('tiny-llama/onnx/model.onnx'));
      const res = applyAdapter(graph, moe, { foldExperts });
      expect(res.layers.size).toBe(6);
      const out = await run(graph, {
        input_ids: int64(g.input_ids),
        attention_mask: int64(g.attention_mask),
      });
      const logits = out['logits']!.data as Float32Array;
      expect(maxAbsDiff(logits, g.logits_mor.data)).toBeLessThan(1e-4);
      expect(maxAbsDiff(logits, g.logits_base.data)).toBeGreaterThan(1e-3);
    });
});
