// The folded inference branch (`foldExperts`: src/pass/mor-branch.ts, folded by src/pass/fold-constants.ts)
// against the per-expert reference of mor-spec.md §1, for every routing mode, with and without a router bias,
// on 3-D input and an opset-11 model.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, applyAdapter, floatTensor, tensorValueInfo, type MorAdapterInput } from '../src/index.js';
import { maxAbsDiff, run } from './helpers/fixtures.js';
import { model, node, rand, randomMor, referenceGates, referenceMorDelta } from './helpers/synthetic.js';

const [T, D_IN, D_OUT, R, N] = [6, 8, 5, 3, 4];
const io = (name: string, dims: number[]) => tensorValueInfo(name, DataType.FLOAT, dims);
// x is [2, 3, d_in]: the folded branch must not depend on the input's rank.
const linear = (opset = 17) =>
  model(
    [node('MatMul', ['x', 'W'], ['y'], '/net/fc/MatMul')],
    [floatTensor('W', [D_IN, D_OUT], rand(D_IN * D_OUT, 5, 0.5))],
    [io('x', [2, 3, D_IN])],
    [io('y', [2, 3, D_OUT])],
    { '': opset },
  );

function adapter(topK: number | null, bias: boolean, tie = false): MorAdapterInput {
  const w = randomMor(D_IN, D_OUT, R, N, bias, 11);
  if (tie) w.routerWeight.copyWithin(2 * D_IN, D_IN, 2 * D_IN); // experts 1 and 2: equal logits for every token
  return {
    kind: 'mor',
    config: { r: R, alpha: 2 * R, experts: N, topK, routerBias: bias },
    layers: new Map([['net.fc', w]]),
  };
}

const x = rand(T * D_IN, 23, 1.5);

async function foldedDelta(a: MorAdapterInput, opts: Parameters<typeof applyAdapter>[2] = {}, opset = 17) {
  const feeds = { x: new ort.Tensor('float32', x, [2, 3, D_IN]) };
  const base = (await run(linear(opset), feeds))['y']!.data as Float32Array;
  const m = linear(opset);
  const res = applyAdapter(m, a, { foldExperts: true, exposeGates: true, ...opts });
  const out = await run(m, feeds);
  return {
    d: (out['y']!.data as Float32Array).map((v, i) => v - base[i]!),
    gates: out[res.gateOutputs[0]!]!,
    res,
  };
}

describe('foldExperts (inference form)', () => {
  it('dense, with and without router bias: delta and gates match the reference', async () => {
    for (const bias of [false, true]) {
      const a = adapter(null, bias);
      const w = a.layers.get('net.fc')!;
      const { d, gates, res } = await foldedDelta(a);
      expect(maxAbsDiff(d, referenceMorDelta(x, w, 2, { topK: null }))).toBeLessThan(1e-5);
      expect(gates.dims).toEqual([2, 3, N]);
      for (let t = 0; t < T; t++) {
        const logits = Array.from({ length: N }, (_, i) => {
          let s = w.routerBias?.[i] ?? 0;
          for (let c = 0; c < D_IN; c++) s += x[t * D_IN + c]! * w.routerWeight[i * D_IN + c]!;
          return s;
        });
        const g = (gates.data as Float32Array).subarray(t * N, (t + 1) * N);
        expect(maxAbsDiff(g, referenceGates(logits, null))).toBeLessThan(1e-5);
      }
      // Parameters are folded: no raw A/B/router initializers, no shape plumbing in the branch.
      expect([...res.params.keys()].some((k) => k.endsWith('.A') || k.endsWith('.routerWeight'))).toBe(false);
      expect(res.params.has(`mor.net.fc.${bias ? 'routerBiasRep' : 'down'}`)).toBe(true);
    }
  });

  it('top-k keeps whole experts, ties going to the lower index', async () => {
    for (const k of [1, 2, 3]) {
      const a = adapter(k, false, true);
      const { d, gates } = await foldedDelta(a);
      expect(maxAbsDiff(d, referenceMorDelta(x, a.layers.get('net.fc')!, 2, { topK: k }))).toBeLessThan(1e-5);
      const g = gates.data as Float32Array;
      for (let t = 0; t < T; t++) expect(g.subarray(N * t, N * t + N).filter((v) => v > 0).length).toBe(k);
    }
  });

  it('static routing becomes a rank-r LoRA', async () => {
    const a = adapter(null, true);
    const gate = [0.1, 0.2, 0.3, 0.4];
    const { d, res } = await foldedDelta(a, { routing: 'static', gate });
    expect(maxAbsDiff(d, referenceMorDelta(x, a.layers.get('net.fc')!, 2, { gate }))).toBeLessThan(1e-5);
    expect(res.params.get('mor.net.fc.up')!.dims).toEqual([R, D_OUT]);
  });

  it('works on an opset-11 model (Split with the split attribute)', async () => {
    const a = adapter(2, true);
    const { d } = await foldedDelta(a, {}, 11);
    expect(maxAbsDiff(d, referenceMorDelta(x, a.layers.get('net.fc')!, 2, { topK: 2 }))).toBeLessThan(1e-5);
  });

  it('is refused with paramsAsInputs', () => {
    expect(() =>
      applyAdapter(linear(), adapter(null, false), { foldExperts: true, paramsAsInputs: true }),
    ).toThrow(/foldExperts/);
  });
});
