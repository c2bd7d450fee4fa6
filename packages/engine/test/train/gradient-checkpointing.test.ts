import type { Adapter } from '@mor/format';
import { buildLlama, buildLlamaBuilderForm, type BuiltModel } from '@mor/model-builder';
import { decodeModel } from '@mor/onnx';
import { describe, expect, it } from 'vitest';
import { buildTrainGraphs } from '../../src/train/build-train-graph.js';
import { TrainSession, type TrainSessionOptions } from '../../src/train/index.js';
import { maxAdapterDiff } from './helpers.js';
import { freshLoraAdapter, randomBatch, randomMorAdapter } from './tiny-models.js';

const TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** One AdamW step's loss, raw gradients and trained adapter. */
async function oneStep(o: TrainSessionOptions) {
  const s = await TrainSession.create({ ...o, outputGradients: true });
  const batch = randomBatch(2, 16, 300, undefined, 5);
  try {
    const r = await s.step(batch, { lr: 0.01 });
    const second = await s.step(batch, { lr: 0.01 });
    return { r, second, adapter: await s.getAdapter() };
  } finally {
    await s.dispose();
  }
}

function maxGradientDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>) {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let max = 0;
  let scale = 0;
  for (const [k, x] of Object.entries(a))
    x.forEach((v, i) => {
      max = Math.max(max, Math.abs(v - b[k]![i]!));
      scale = Math.max(scale, Math.abs(v));
    });
  return { max, scale };
}

async function expectSameStep(built: BuiltModel, adapter: Adapter, layerCount: number) {
  const o: TrainSessionOptions = {
    model: built.onnx,
    task: 'causal-lm',
    method: adapter.kind,
    adapter,
    optimizer: { kind: 'adamw', lr: 0.01, weightDecay: 0.01 },
  };
  // The train graph holds a forward copy of every layer (the values below would agree without one, too).
  const graphs = await buildTrainGraphs({ ...o, gradientCheckpointing: true });
  const nodes = (await decodeModel(graphs.trainModel.bytes)).graph!.node;
  const copies = nodes.filter((n) => n.name.includes('/recompute'));
  const layers = new Set(copies.flatMap((n) => /layers[./](\d+)/.exec(n.name)?.[1] ?? []));
  expect([...layers].sort()).toEqual(Array.from({ length: layerCount }, (_, i) => String(i)));
  const plain = await oneStep(o);
  const checkpointed = await oneStep({ ...o, gradientCheckpointing: true });
  expect(Math.abs(checkpointed.r.loss - plain.r.loss)).toBeLessThan(1e-6);
  const { max, scale } = maxGradientDiff(plain.r.gradients!, checkpointed.r.gradients!);
  expect(scale).toBeGreaterThan(1e-4); // gradients flow
  expect(max).toBeLessThan(1e-6);
  expect(Math.abs(checkpointed.second.loss - plain.second.loss)).toBeLessThan(1e-6);
  expect(maxAdapterDiff(plain.adapter, checkpointed.adapter)).toBeLessThan(1e-6);
}

describe('gradientCheckpointing', () => {
  const llama = buildLlama({ hidden: 64, layers: 3, withoutKvCache: true, seed: 6 });

  it('MoR (with adapter-input dropout): the same gradients and AdamW steps as without', async () => {
    const mor = randomMorAdapter(llama, { r: 4, experts: 4, alpha: 8, targets: TARGETS, dropout: 0.2 });
    await expectSameStep(llama, { ...mor, taskType: 'CAUSAL_LM' }, 3);
  });

  it('LoRA: the same gradients and AdamW steps as without', async () => {
    await expectSameStep(llama, freshLoraAdapter(llama, TARGETS), 3);
  });

  it('the builder form (GroupQueryAttention, SkipSimplifiedLayerNorm decomposed): the same steps', async () => {
    const builder = buildLlamaBuilderForm({ hidden: 64, layers: 2, seed: 6 });
    const mor = randomMorAdapter(builder, { r: 4, experts: 4, alpha: 8, targets: TARGETS });
    await expectSameStep(builder, mor, 2);
  });
});
