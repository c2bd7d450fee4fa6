// Training a MoELoRA adapter (mor-spec.md §7) with TrainSession: one plain SGD step on tiny Llama against
// (1) @mor/core's reference backward, for a MoELoRA on lm_head (its input, the final hidden state, does not depend
// on the adapter, so dL/dθ is the reference's with dL/dlogits = (softmax − onehot)/tokens; with the router
// load-balancing loss, plus its gate gradient), and (2) PyTorch's
// golden MoR step (fixtures/tiny-llama/mor-adapter-sgd1), for the MoR fixture rewritten as the equivalent MoELoRA:
// the chain rule from the experts' gradients back to MoR's shared A, B and omegas gives PyTorch's update.
import {
  createRng,
  initMoeLoraLayer,
  loadBalanceLoss,
  moeLoraBackwardF64,
  moeLoraForwardF64,
  moeLoraFromMor,
  validateMorConfig,
  type MoeLoraLayerWeights,
} from '@mor/core';
import { createMoeLoraAdapter, type MoeLoraAdapter, type MorAdapter } from '@mor/format';
import { loadAdapter } from '@mor/format/node';
import { decodeModel, encodeModelBytes, findLinearLayers, tensorValueInfo, DataType } from '@mor/onnx';
import { describe, expect, it } from 'vitest';
import { transformersOrt } from '../../src/ort-module.js';
import { TrainSession } from '../../src/train/index.js';
import { fixture, golden, goldenRows, lmBatch, tinyLlamaBytes } from './helpers.js';

const LR = 0.05;

async function oneSgdStep(adapter: MoeLoraAdapter) {
  const session = await TrainSession.create({
    model: tinyLlamaBytes(),
    task: 'causal-lm',
    method: 'moelora',
    adapter,
    optimizer: { kind: 'sgd', lr: LR },
  });
  try {
    const before = await session.step(lmBatch(goldenRows()), { lr: LR });
    return { loss: before.loss, trained: (await session.getAdapter()) as MoeLoraAdapter };
  } finally {
    await session.dispose();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The base model's logits and the input of lm_head (the final hidden state) for the golden rows. */
async function baseLogitsAndHidden(): Promise<{ logits: Float32Array; hidden: Float32Array }> {
  const model = await decodeModel(tinyLlamaBytes());
  const lm = findLinearLayers(model).find((l) => l.modulePath.endsWith('lm_head'))!;
  model.graph!.output.push(tensorValueInfo(lm.input, DataType.FLOAT));
  const ort = await transformersOrt();
  const session = await ort.InferenceSession.create(encodeModelBytes(model));
  const batch = lmBatch(goldenRows());
  const dims = [batch.batchSize, batch.seqLength];
  const out = await session.run({
    input_ids: new ort.Tensor('int64', batch.inputIds as never, dims),
    attention_mask: new ort.Tensor('int64', batch.attentionMask as never, dims),
  });
  return {
    logits: out['logits']!.data as Float32Array,
    hidden: out[lm.input]!.data as Float32Array,
  };
}

describe('TrainSession: one SGD step of a MoELoRA adapter', () => {
  const CASES = [
    { name: 'top-2 of 4 experts, router bias', topK: 2, aux: 0 },
    { name: 'dense, router bias, load-balancing loss 0.5', topK: null, aux: 0.5 },
  ];
  for (const c of CASES)
    it(`equals @mor/core's moeLoraBackward on lm_head (${c.name}), within 1e-5`, async () => {
      const [dIn, dOut] = [64, 384];
      const config = validateMorConfig({
        r: 3,
        alpha: 6,
        experts: 4,
        topK: c.topK,
        routerBias: true,
        targets: ['lm_head'],
        routerAuxLossCoef: c.aux,
      });
      const rng = createRng(9);
      const init = initMoeLoraLayer({ dIn, dOut, config, rng });
      // B ≠ 0 so every parameter (A_i and the router too) gets a gradient.
      const layer: MoeLoraLayerWeights = {
        ...init,
        B: rng.fillUniform(new Float32Array(init.B.length), -0.3, 0.3),
      };
      const adapter = createMoeLoraAdapter({ config, layers: new Map([['lm_head', layer]]) });
      const { loss, trained } = await oneSgdStep(adapter);

      // The reference: delta from moeLoraForward on the final hidden state, the mean token cross-entropy of
      // base logits + delta over the 7 predicted positions of each row, and moeLoraBackward of its gradient
      // (plus coef · the load-balancing loss's gate gradient over all 16 tokens the attention mask keeps).
      const { logits: base, hidden } = await baseLogitsAndHidden();
      const rows = goldenRows();
      const [b, t] = [rows.length, rows[0]!.length];
      const routing = c.topK === null ? { mode: 'dense' as const } : { mode: 'top-k' as const, k: c.topK };
      const common = {
        x: hidden,
        baseWeight: new Float32Array(dOut * dIn), // the base path does not reach the adapter's gradients
        weights: layer,
        config,
        routing,
      };
      const { delta, gates } = moeLoraForwardF64(common);
      const upstream = new Float64Array(b * t * dOut);
      const count = b * (t - 1);
      let refLoss = 0;
      for (let row = 0; row < b; row++) {
        for (let pos = 0; pos < t - 1; pos++) {
          const at = (row * t + pos) * dOut;
          const z = Array.from({ length: dOut }, (_, v) => base[at + v]! + delta[at + v]!);
          const max = Math.max(...z);
          const sum = z.reduce((s, v) => s + Math.exp(v - max), 0);
          const label = rows[row]![pos + 1]!;
          refLoss += (Math.log(sum) + max - z[label]!) / count;
          for (let v = 0; v < dOut; v++)
            upstream[at + v] = (Math.exp(z[v]! - max) / sum - (v === label ? 1 : 0)) / count;
        }
      }
      expect(Math.abs(loss - refLoss)).toBeLessThan(1e-5);
      const gateGrad =
        c.aux > 0
          ? Float64Array.from(loadBalanceLoss({ gates, experts: 4 }).gateGrad, (g) => c.aux * g)
          : null;
      const g = moeLoraBackwardF64({ ...common, upstream, gateGrad });
      const got = trained.layers.get('lm_head')!;
      const step = (w: Float32Array, grad: Float64Array) => Float64Array.from(w, (v, i) => v - LR * grad[i]!);
      expect(maxDiff(got.A, step(layer.A, g.A))).toBeLessThan(1e-5);
      expect(maxDiff(got.B, step(layer.B, g.B))).toBeLessThan(1e-5);
      expect(maxDiff(got.routerWeight, step(layer.routerWeight, g.routerWeight))).toBeLessThan(1e-5);
      expect(maxDiff(got.routerBias!, step(layer.routerBias!, g.routerBias!))).toBeLessThan(1e-5);
      // The step moved every tensor (a test that cannot pass by leaving the adapter alone).
      expect(maxDiff(got.A, layer.A)).toBeGreaterThan(1e-4);
      expect(maxDiff(got.routerWeight, layer.routerWeight)).toBeGreaterThan(1e-4);
      if (c.aux > 0) {
        // The load-balancing term is visible: without it the router would have moved elsewhere.
        const plain = moeLoraBackwardF64({ ...common, upstream });
        expect(maxDiff(got.routerWeight, step(layer.routerWeight, plain.routerWeight))).toBeGreaterThan(1e-5);
      }
    });

  it("the MoR fixture as a MoELoRA: the chain rule to MoR's tensors gives PyTorch's golden SGD step (1e-5)", async () => {
    const mor = (await loadAdapter(fixture('tiny-llama/mor-adapter'))) as MorAdapter;
    const expected = (await loadAdapter(fixture('tiny-llama/mor-adapter-sgd1'))) as MorAdapter;
    const moe = createMoeLoraAdapter({
      config: mor.config,
      layers: new Map([...mor.layers].map(([m, w]) => [m, moeLoraFromMor(w)])),
    });
    const { loss, trained } = await oneSgdStep(moe);
    expect(Math.abs(loss - golden().loss_mor)).toBeLessThan(1e-5);
    for (const [module, w] of mor.layers) {
      const before = moe.layers.get(module)!;
      const after = trained.layers.get(module)!;
      const want = expected.layers.get(module)!;
      const { dIn, dOut, r, experts: n } = w;
      // Expert gradients from the update, then A_i = diag(ω_A[i])·A, B_i = diag(ω_B[i])·B backwards.
      const gA = Float64Array.from(before.A, (v, i) => (v - after.A[i]!) / LR);
      const gB = Float64Array.from(before.B, (v, i) => (v - after.B[i]!) / LR);
      const dA = new Float64Array(r * dIn);
      const dOmegaA = new Float64Array(n * r);
      const dB = new Float64Array(dOut * r);
      const dOmegaB = new Float64Array(n * dOut);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < r; k++)
          for (let j = 0; j < dIn; j++) {
            const g = gA[(i * r + k) * dIn + j]!;
            dA[k * dIn + j]! += w.omegaA[i * r + k]! * g;
            dOmegaA[i * r + k]! += w.A[k * dIn + j]! * g;
          }
        for (let o = 0; o < dOut; o++)
          for (let k = 0; k < r; k++) {
            const g = gB[(i * dOut + o) * r + k]!;
            dB[o * r + k]! += w.omegaB[i * dOut + o]! * g;
            dOmegaB[i * dOut + o]! += w.B[o * r + k]! * g;
          }
      }
      const step = (p: Float32Array, g: Float64Array) => Float64Array.from(p, (v, i) => v - LR * g[i]!);
      expect(maxDiff(step(w.A, dA), want.A), `${module} A`).toBeLessThan(1e-5);
      expect(maxDiff(step(w.B, dB), want.B), `${module} B`).toBeLessThan(1e-5);
      expect(maxDiff(step(w.omegaA, dOmegaA), want.omegaA), `${module} omega_A`).toBeLessThan(1e-5);
      expect(maxDiff(step(w.omegaB, dOmegaB), want.omegaB), `${module} omega_B`).toBeLessThan(1e-5);
      expect(maxDiff(after.routerWeight, want.routerWeight), `${module} router`).toBeLessThan(1e-5);
    }
    expect(
      maxDiff(
        trained.layers.get('model.layers.0.mlp.up_proj')!.B,
        moe.layers.get('model.layers.0.mlp.up_proj')!.B,
      ),
    ).toBeGreaterThan(1e-4);
  });

  it('refuses a MoELoRA adapter for method mor, naming both', async () => {
    const mor = (await loadAdapter(fixture('tiny-llama/mor-adapter'))) as MorAdapter;
    const moe = createMoeLoraAdapter({
      config: mor.config,
      layers: new Map([...mor.layers].map(([m, w]) => [m, moeLoraFromMor(w)])),
    });
    await expect(
      TrainSession.create({
        model: tinyLlamaBytes(),
        task: 'causal-lm',
        method: 'mor',
        adapter: moe,
        optimizer: { kind: 'sgd', lr: LR },
      }),
    ).rejects.toThrow('method "mor" needs a mor adapter (got moelora)');
  });
});
