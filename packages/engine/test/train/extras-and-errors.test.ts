import { loadAdapter } from '@mor/format/node';
import type { MorAdapter } from '@mor/format';
import { buildLlama } from '@mor/model-builder';
import { decodeModel, encodeModelBytes } from '@mor/onnx';
import { describe, expect, it } from 'vitest';
import { UnsupportedDeviceError } from '../../src/index.js';
import { TrainSession, TrainSetupError, type TrainSessionOptions } from '../../src/train/index.js';
import { fixture, golden, goldenRows, lmBatch, maxAdapterDiff, tinyLlamaBytes } from './helpers.js';
import { randomMorAdapter } from './tiny-models.js';

const options = (adapter: MorAdapter, extra: Partial<TrainSessionOptions> = {}): TrainSessionOptions => ({
  model: tinyLlamaBytes(),
  task: 'causal-lm',
  method: 'mor',
  adapter,
  optimizer: { kind: 'sgd', lr: 0.05 },
  ...extra,
});
const morFixture = async () => (await loadAdapter(fixture('tiny-llama/mor-adapter'))) as MorAdapter;

async function oneStep(o: TrainSessionOptions) {
  const s = await TrainSession.create(o);
  const before = await s.evaluate(lmBatch(goldenRows()));
  const r = await s.step(lmBatch(goldenRows()), { lr: 0.05 });
  const adapter = await s.getAdapter();
  await s.dispose();
  return { before, r, adapter };
}

describe('router load-balancing loss', () => {
  it('adds aux_loss (in [1, N]) to the trained loss and changes the router gradients', async () => {
    const adapter = await morFixture();
    const plain = await oneStep(options(adapter, { outputGradients: true }));
    const aux = await oneStep(options(adapter, { outputGradients: true, routerAuxLossCoef: 0.5 }));
    expect(plain.r.auxLoss).toBeUndefined();
    expect(aux.r.auxLoss).toBeGreaterThanOrEqual(1);
    expect(aux.r.auxLoss).toBeLessThanOrEqual(4);
    expect(aux.r.loss).toBeCloseTo(plain.r.loss, 6); // `loss` stays the task loss
    const router = 'mor.model.layers.0.mlp.gate_proj.routerWeight';
    const [g0, g1] = [plain.r.gradients![router]!, aux.r.gradients![router]!];
    expect(Math.max(...g0.map((x, i) => Math.abs(x - g1[i]!)))).toBeGreaterThan(1e-5);
  });
});

describe('adapter-input dropout', () => {
  it('is seeded, applies to training only, and is off at p = 0 (the golden)', async () => {
    const base = await morFixture();
    const adapter: MorAdapter = { ...base, config: { ...base.config, dropout: 0.3 } };
    const [a, b, c] = [
      await oneStep(options(adapter, { dropoutSeed: 1 })),
      await oneStep(options(adapter, { dropoutSeed: 1 })),
      await oneStep(options(adapter, { dropoutSeed: 2 })),
    ];
    expect(Math.abs(a.before.loss - golden().loss_mor)).toBeLessThan(1e-5); // evaluate: no dropout
    expect(Math.abs(a.r.loss - a.before.loss)).toBeGreaterThan(1e-4); // the step's forward drops
    expect(b.r.loss).toBe(a.r.loss);
    expect(maxAdapterDiff(a.adapter, b.adapter)).toBe(0);
    expect(maxAdapterDiff(a.adapter, c.adapter)).toBeGreaterThan(1e-6);
  });
});

describe('TrainSession errors', () => {
  it('an unknown device lists the valid ones', async () => {
    const run = TrainSession.create(options(await morFixture(), { device: 'tpu' }));
    await expect(run).rejects.toThrow(UnsupportedDeviceError);
    await expect(TrainSession.create(options(await morFixture(), { device: 'tpu' }))).rejects.toThrow(
      /unsupported device "tpu": expected one of cpu, webgpu, cuda, wasm/,
    );
  });

  it('an op without a gradient rule on the path names its node (a MatMulInteger not in the q8 form)', async () => {
    const built = buildLlama({ hidden: 64, layers: 2, withoutKvCache: true, quantize: 'dynamic-int8' });
    // Drop the weight's scale from one chain of layer 1: no longer onnxruntime's dynamic-quantization form.
    const model = await decodeModel(built.onnx);
    const g = model.graph!;
    const broken = g.node.find(
      (n) => n.name === '/model/layers.1/mlp/up_proj/MatMul_quant_output_scale_mul',
    )!;
    const scales = g.node.find((n) => n.output[0] === broken.input[1])!;
    broken.input[1] = scales.input[0]!;
    const adapter = randomMorAdapter(built, { r: 2, experts: 2, targets: ['layers.0.mlp.down_proj'] });
    const o = options(adapter, { model: encodeModelBytes(model) });
    await expect(TrainSession.create(o)).rejects.toThrow(TrainSetupError);
    await expect(TrainSession.create(o)).rejects.toThrow(
      /no gradient rule for MatMulInteger \(ai\.onnx\) node "\/model\/layers\.1\/mlp\/up_proj\/MatMul_quant" \(only the dynamic-quantization form/,
    );
  });

  it('refuses a method/adapter mismatch, a bad gradAccum and a ragged batch', async () => {
    const adapter = await morFixture();
    await expect(TrainSession.create(options(adapter, { method: 'lora' }))).rejects.toThrow(
      /needs a lora adapter \(got mor\)/,
    );
    await expect(TrainSession.create(options(adapter, { gradAccum: 0 }))).rejects.toThrow(/gradAccum/);
    const s = await TrainSession.create(options(adapter));
    const bad = { ...lmBatch(goldenRows()), seqLength: 5 };
    await expect(s.step(bad, { lr: 0.1 })).rejects.toThrow(/inputIds has 16 values, expected 10/);
    await s.dispose();
  });
});
