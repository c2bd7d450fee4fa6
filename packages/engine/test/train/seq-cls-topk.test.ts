import type { MorAdapter } from '@mor/format';
import { buildBertForSequenceClassification } from '@mor/model-builder';
import { applyAdapter, decodeModel, encodeModelBytes } from '@mor/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { TrainSession, type TrainSessionOptions } from '../../src/train/index.js';
import { adapterTensors } from './helpers.js';
import { randomBatch, randomMorAdapter } from './tiny-models.js';

// Tiny random BERT for sequence classification (3 labels), MoR on query and value with top-2-of-4 routing and a
// router bias: the path runs through LayerNormalization (decomposed), erf-GELU, attention, the pooler's Tanh,
// TopK and ScatterElements (the top-k gates).
const built = buildBertForSequenceClassification({ labels: ['a', 'b', 'c'], seed: 5 });
const adapter = randomMorAdapter(built, {
  r: 2,
  alpha: 4,
  experts: 4,
  topK: 2,
  routerBias: true,
  targets: ['query', 'value'],
});
const batch = randomBatch(4, 6, 120, 3);
const lr = 0.1;
const options = (a: MorAdapter, extra: Partial<TrainSessionOptions> = {}): TrainSessionOptions => ({
  model: built.onnx,
  task: 'seq-cls',
  method: 'mor',
  adapter: a,
  optimizer: { kind: 'sgd', lr },
  ...extra,
});

async function lossWith(a: MorAdapter): Promise<number> {
  const s = await TrainSession.create(options(a));
  try {
    return (await s.evaluate(batch)).loss;
  } finally {
    await s.dispose();
  }
}

/**
 * Rows whose arg-max logit is the label, from an independent path: the inference form of the graph (the folded
 * branch `attachAdapter` uses, not the train graph) run by plain onnxruntime.
 */
async function correctRowsWith(a: MorAdapter): Promise<number> {
  const model = await decodeModel(built.onnx);
  applyAdapter(model, a);
  const session = await ort.InferenceSession.create(encodeModelBytes(model));
  const dims = [batch.batchSize, batch.seqLength];
  const out = await session.run({
    input_ids: new ort.Tensor('int64', batch.inputIds, dims),
    attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(batch.inputIds.length), dims),
  });
  await session.release();
  const logits = out['logits']!.data as Float32Array;
  const classes = logits.length / batch.batchSize;
  let correct = 0;
  for (let row = 0; row < batch.batchSize; row++) {
    const scores = logits.subarray(row * classes, (row + 1) * classes);
    const best = scores.indexOf(Math.max(...scores));
    if (BigInt(best) === batch.labels[row]) correct++;
  }
  return correct;
}

/** A copy of the adapter with one value of one tensor moved by `delta`. */
function perturbed(
  module: string,
  key: 'A' | 'B' | 'routerWeight' | 'routerBias',
  i: number,
  delta: number,
): MorAdapter {
  const layers = new Map(adapter.layers);
  const w = layers.get(module)!;
  const t = Float32Array.from(w[key]!);
  t[i]! += delta;
  layers.set(module, { ...w, [key]: t });
  return { ...adapter, layers };
}

describe('seq-cls on tiny BERT, top-2 of 4 routing with router bias', () => {
  it('one SGD step is p − lr·g, and g agrees with finite differences of the forward loss', async () => {
    const s = await TrainSession.create(options(adapter, { outputGradients: true }));
    const { loss, tokens, gradients } = await s.step(batch, { lr });
    expect(tokens).toBe(4);
    expect(loss).toBeCloseTo(await lossWith(adapter), 5);
    const after = (await s.getAdapter()) as MorAdapter;
    const trained = adapterTensors(after);
    for (const [name, before] of adapterTensors(adapter)) {
      const g = gradients![`mor.${name}`]!;
      const after = trained.get(name)!;
      for (let i = 0; i < before.length; i++)
        expect(Math.abs(after[i]! - (before[i]! - lr * g[i]!))).toBeLessThan(1e-6);
    }
    const eval1 = await s.evaluate(batch);
    expect(eval1.count).toBe(4);
    expect(eval1.correct).toBe(await correctRowsWith(after));
    await s.dispose();

    const q = 'bert.encoder.layer.0.attention.self.query';
    const v = 'bert.encoder.layer.1.attention.self.value';
    const checks = [
      [q, 'routerWeight'],
      [v, 'routerBias'],
      [q, 'A'],
      [v, 'B'],
    ] as const;
    for (const [module, key] of checks) {
      const g = gradients![`mor.${module}.${key}`]!;
      const i = [...g.keys()].reduce((best, j) => (Math.abs(g[j]!) > Math.abs(g[best]!) ? j : best), 0);
      const eps = 5e-3;
      const fd =
        ((await lossWith(perturbed(module, key, i, eps))) -
          (await lossWith(perturbed(module, key, i, -eps)))) /
        (2 * eps);
      expect(Math.abs(g[i]!), `${module}.${key}`).toBeGreaterThan(1e-4);
      expect(Math.abs(fd - g[i]!), `${module}.${key}[${i}]: fd ${fd}, autodiff ${g[i]}`).toBeLessThan(
        0.03 * Math.abs(g[i]!) + 2e-4,
      );
    }
  }, 120_000);
});
