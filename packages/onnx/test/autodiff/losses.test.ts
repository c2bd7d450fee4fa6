import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, TensorProto_DataType as DataType } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { addCausalLmLoss } from '../../src/autodiff/losses/causal-lm-loss.js';
import { addClassificationLoss } from '../../src/autodiff/losses/classification-loss.js';
import { checkGradient } from './helpers/gradient-check.js';
import { graph, modelBytes, rng } from './helpers/onnx-model.js';

/** Cross-entropy mean over non-ignored rows, in plain JS: rows of `classes` logits. */
function referenceCe(logits: number[], labels: number[], classes: number): number {
  let sum = 0;
  let count = 0;
  labels.forEach((label, r) => {
    if (label === -100) return;
    const row = logits.slice(r * classes, (r + 1) * classes);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    sum += lse - row[label]!;
    count++;
  });
  return sum / count;
}

const [B, T, V] = [2, 4, 5];
const labels = [3, 1, -100, 4, 0, -100, 2, 2];

describe('losses', () => {
  it('causal LM loss shifts by one and averages over non-ignored labels of the whole batch', async () => {
    const g = graph({
      nodes: [],
      inputs: [{ name: 'logits', type: DataType.DOUBLE, dims: [B, T, V] }],
      outputs: [],
    });
    addCausalLmLoss(g, { logits: 'logits', floatType: DataType.DOUBLE });
    const next = rng(7);
    const logits = Array.from({ length: B * T * V }, () => next(-2, 2));
    const s = await ort.InferenceSession.create(modelBytes(g));
    const r = await s.run({
      logits: new ort.Tensor('float64', Float64Array.from(logits), [B, T, V]),
      labels: new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [B, T]),
    });
    // Reference: position t of row b predicts labels[b, t+1].
    const shiftedLogits: number[] = [];
    const shiftedLabels: number[] = [];
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T - 1; t++) {
        shiftedLogits.push(...logits.slice((b * T + t) * V, (b * T + t + 1) * V));
        shiftedLabels.push(labels[b * T + t + 1]!);
      }
    expect(Number((r.loss!.data as Float64Array)[0])).toBeCloseTo(
      referenceCe(shiftedLogits, shiftedLabels, V),
      12,
    );
  });

  it.each([
    [
      'causal LM',
      (g: Parameters<typeof addCausalLmLoss>[0]) =>
        addCausalLmLoss(g, { logits: 'logits', labels: 'lab', loss: 'ce', floatType: DataType.DOUBLE }),
      [B, T, V],
      [B, T],
    ],
    [
      'classification',
      (g: Parameters<typeof addCausalLmLoss>[0]) =>
        addClassificationLoss(g, { logits: 'logits', labels: 'lab', loss: 'ce', floatType: DataType.DOUBLE }),
      [B * T, V],
      [B * T],
    ],
  ] as const)('%s loss gradient matches finite differences', async (_name, add, logitDims, labelDims) => {
    const scratch = create(GraphProtoSchema, {});
    add(scratch);
    const { maxError } = await checkGradient({
      op: 'loss',
      label: 'loss',
      inputs: { logits: [...logitDims] },
      range: [-2, 2],
      ints: { lab: { values: labels, dims: [...labelDims] } },
      nodes: scratch.node,
      initializers: scratch.initializer,
      outputs: ['ce'],
    });
    expect(maxError).toBeLessThan(1e-6);
  });

  it('classification loss equals the mean cross-entropy over the batch', async () => {
    const g = graph({
      nodes: [],
      inputs: [{ name: 'logits', type: DataType.FLOAT, dims: [3, 4] }],
      outputs: [],
    });
    addClassificationLoss(g, { logits: 'logits' });
    const logits = [0.1, 2, -1, 0.5, 1, 1, 1, 1, -3, 0, 3, 0.2];
    const s = await ort.InferenceSession.create(modelBytes(g));
    const r = await s.run({
      logits: new ort.Tensor('float32', Float32Array.from(logits), [3, 4]),
      labels: new ort.Tensor('int64', BigInt64Array.from([1n, 3n, 2n]), [3]),
    });
    expect(Number((r.loss!.data as Float32Array)[0])).toBeCloseTo(referenceCe(logits, [1, 3, 2], 4), 5);
  });
});
