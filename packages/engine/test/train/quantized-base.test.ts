import { buildLlama } from '@mor/model-builder';
import { describe, expect, it } from 'vitest';
import { TrainSession, type TrainSessionOptions } from '../../src/train/index.js';
import { maxAdapterDiff, webgpuSkipReason } from './helpers.js';
import { nbitsTwin } from './quantized-twin.js';
import { freshLoraAdapter, randomBatch, randomMorAdapter } from './tiny-models.js';

// QLoRA: adapters trained through a frozen 4-bit base (MatMulNBits). One SGD step must equal the step on the fp32
// twin whose weights are the dequantized ones: the forward multiplies by exactly that weight, and the backward
// rebuilds it (gradient-rules.ts, quantized-grads.ts).
const built = buildLlama({ hidden: 64, layers: 2, withoutKvCache: true, seed: 4, quantize: 'matmulnbits' });
const twin = await nbitsTwin(built.onnx);
const targets = ['q_proj', 'v_proj', 'down_proj'];

async function oneStep(model: Uint8Array, o: Partial<TrainSessionOptions>) {
  const s = await TrainSession.create({
    model,
    task: 'causal-lm',
    method: 'mor',
    optimizer: { kind: 'sgd', lr: 0.5 },
    ...o,
  } as TrainSessionOptions);
  const r = await s.step(randomBatch(2, 10, 300, undefined, 5), { lr: 0.5 });
  const adapter = await s.getAdapter();
  await s.dispose();
  return { loss: r.loss, adapter };
}

const cases = [
  ['MoR dense', { method: 'mor', adapter: randomMorAdapter(built, { r: 2, experts: 2, targets }) }],
  ['LoRA', { method: 'lora', adapter: freshLoraAdapter(built, targets) }],
] as const;

describe('training through a 4-bit MatMulNBits base', () => {
  it('the twin really is the dequantized model (the builder form has MatMulNBits, the twin none)', () => {
    expect(built.linears.filter((l) => l.form === 'matmulnbits').length).toBe(14);
  });

  it.each(cases)('%s: one SGD step equals the fp32 twin’s within 1e-5 (CPU)', async (_l, o) => {
    const [q, f] = [await oneStep(built.onnx, o), await oneStep(twin, o)];
    expect(Math.abs(q.loss - f.loss)).toBeLessThan(1e-5);
    const moved = maxAdapterDiff(q.adapter, o.adapter);
    expect(moved).toBeGreaterThan(1e-3);
    expect(maxAdapterDiff(q.adapter, f.adapter)).toBeLessThan(1e-5);
  });

  const skip = webgpuSkipReason();
  it.skipIf(skip !== null)(
    `MoR dense on WebGPU equals the fp32 twin’s step within 1e-3${skip ? ` (skipped: ${skip})` : ''}`,
    async () => {
      const o = { ...cases[0][1], device: 'webgpu' as const };
      const [q, f] = [await oneStep(built.onnx, o), await oneStep(twin, { ...cases[0][1] })];
      expect(Math.abs(q.loss - f.loss)).toBeLessThan(1e-3);
      expect(maxAdapterDiff(q.adapter, f.adapter)).toBeLessThan(1e-3);
    },
  );
});
