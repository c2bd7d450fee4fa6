import { loadAdapter } from '@mor/format/node';
import { describe, expect, it } from 'vitest';
import { TrainSession } from '../../src/train/index.js';
import {
  golden,
  goldenRows,
  lmBatch,
  maxAdapterDiff,
  fixture,
  tinyLlamaBytes,
  webgpuSkipReason,
} from './helpers.js';

// fixtures/tiny-llama/mor-adapter-sgd1 is the PyTorch implementation's adapter after ONE plain SGD step
// (lr 0.05) on both rows of golden_data.jsonl in one batch, causal-LM mean token loss.
async function oneGoldenStep(device: 'cpu' | 'webgpu') {
  const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
  const session = await TrainSession.create({
    model: tinyLlamaBytes(),
    task: 'causal-lm',
    method: 'mor',
    adapter,
    optimizer: { kind: 'sgd', lr: 0.05 },
    device,
  });
  try {
    const batch = lmBatch(goldenRows());
    const before = await session.step(batch, { lr: 0.05 });
    const after = await session.evaluate(batch);
    return { before, after, trained: await session.getAdapter(), steps: session.stepCount };
  } finally {
    await session.dispose();
  }
}

describe('TrainSession: one SGD step on tiny Llama equals the PyTorch golden', () => {
  it('cpu: adapter within 1e-5 tensor by tensor, loss before/after as golden.json', async () => {
    const expected = await loadAdapter(fixture('tiny-llama/mor-adapter-sgd1'));
    const { before, after, trained, steps } = await oneGoldenStep('cpu');
    expect(steps).toBe(1);
    expect(before.tokens).toBe(14);
    expect(Math.abs(before.loss - golden().loss_mor)).toBeLessThan(1e-5);
    expect(Math.abs(after.loss - golden().loss_after_sgd1)).toBeLessThan(1e-5);
    expect(maxAdapterDiff(trained, expected)).toBeLessThan(1e-5);
    expect(maxAdapterDiff(trained, await loadAdapter(fixture('tiny-llama/mor-adapter')))).toBeGreaterThan(
      1e-3,
    );
  });

  const skip = webgpuSkipReason();
  it.skipIf(skip !== null)(
    `webgpu: the same within 1e-3${skip ? ` — skipped: ${skip}` : ''}`,
    async () => {
      const expected = await loadAdapter(fixture('tiny-llama/mor-adapter-sgd1'));
      const { before, after, trained } = await oneGoldenStep('webgpu');
      expect(Math.abs(before.loss - golden().loss_mor)).toBeLessThan(1e-3);
      expect(Math.abs(after.loss - golden().loss_after_sgd1)).toBeLessThan(1e-3);
      expect(maxAdapterDiff(trained, expected)).toBeLessThan(1e-3);
    },
    300_000,
  );
});
