import { readFileSync } from 'node:fs';
import { loadAdapter } from '@mor/format/node';
import { buildLlama } from '@mor/model-builder';
import { describe, expect, it } from 'vitest';
import { TrainSession, type TrainSessionOptions } from '../../src/train/index.js';
import { fixture, goldenRows, lmBatch, maxAdapterDiff, tinyLlamaBytes } from './helpers.js';
import { freshLoraAdapter, randomBatch } from './tiny-models.js';

/** Losses of `steps` updates on one batch (each loss is measured before its update), then the final eval loss. */
async function lossCurve(o: TrainSessionOptions, steps: number, lr: number) {
  const s = await TrainSession.create(o);
  const batch = randomBatch(2, 12, 300, undefined, 11);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await s.step(batch, { lr })).loss);
  losses.push((await s.evaluate(batch)).loss);
  return { s, losses };
}

describe('TrainSession methods', () => {
  it('lora (fresh PEFT-style init, B = 0) lowers the loss over a few AdamW steps', async () => {
    const built = buildLlama({ hidden: 64, layers: 2, withoutKvCache: true, seed: 2 });
    const adapter = freshLoraAdapter(built, ['q_proj', 'v_proj']);
    const { s, losses } = await lossCurve(
      {
        model: built.onnx,
        task: 'causal-lm',
        method: 'lora',
        adapter,
        optimizer: { kind: 'adamw', lr: 0.01 },
      },
      5,
      0.01,
    );
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 0.05);
    const trained = await s.getAdapter();
    expect(trained.kind).toBe('lora');
    expect(maxAdapterDiff(trained, adapter)).toBeGreaterThan(1e-3);
    await s.dispose();
  });

  it('full fine-tuning of selected base weights lowers the loss; getAdapter refuses, getParameters returns them', async () => {
    const { s, losses } = await lossCurve(
      {
        model: tinyLlamaBytes(),
        task: 'causal-lm',
        method: 'full',
        fullTargets: [
          'model.layers.1.mlp.down_proj',
          'm.model.layers.0.input_layernorm.weight' /* shared by every norm (deduped export) */,
        ],
        optimizer: { kind: 'sgd', lr: 0.5 },
      },
      4,
      0.5,
    );
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 0.05);
    const params = await s.getParameters();
    expect(params.size).toBe(2);
    await expect(s.getAdapter()).rejects.toThrow(/getParameters/);
    await s.dispose();
  });

  it('a KV-cache export trains like the plain export (empty past, present outputs dropped)', async () => {
    const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    const kvModel = new Uint8Array(readFileSync(fixture('tiny-llama-kv/onnx/model.onnx')));
    const run = async (model: Uint8Array) => {
      const s = await TrainSession.create({
        model,
        task: 'causal-lm',
        method: 'mor',
        adapter,
        optimizer: { kind: 'sgd', lr: 0.05 },
      });
      const r = await s.step(lmBatch(goldenRows()), { lr: 0.05 });
      const a = await s.getAdapter();
      await s.dispose();
      return { loss: r.loss, a };
    };
    const [plain, kv] = [await run(tinyLlamaBytes()), await run(kvModel)];
    expect(Math.abs(plain.loss - kv.loss)).toBeLessThan(1e-5);
    expect(maxAdapterDiff(plain.a, kv.a)).toBeLessThan(1e-5);
  });
});
